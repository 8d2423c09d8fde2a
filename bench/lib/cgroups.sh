# One cgroup for the whole benchmark, nested under ours, in every v1 hierarchy. Sourced by
# bench/run.
#
# Our processes sit in a nested memory cgroup and at `/` elsewhere; crun and runc take one
# absolute cgroupsPath for every hierarchy, and nspawn makes `payload`/`supervisor` beside
# its caller's cgroup. So the benchmark makes MDB_CG = <our memory cgroup>/mdbench-<pid> in
# every hierarchy (the same path everywhere, under our own cgroup in each), moves itself
# in, and every tool nests below it. cg_teardown moves back and removes all of it,
# depth-first; whatever it cannot remove is a leak.

# "hierarchy-dir<TAB>our-path" for each v1 hierarchy mounted under /sys/fs/cgroup.
cg_hierarchies() {
	local _n ctrl path dir
	while IFS=: read -r _n ctrl path; do
		[ -z "$ctrl" ] && continue
		dir=/sys/fs/cgroup/${ctrl#name=}
		[ -d "$dir" ] && printf '%s\t%s\n' "$dir" "$path"
	done </proc/self/cgroup
}

cg_setup() {
	local mem dir path d part
	mem=$(awk -F: '$2 == "memory" { print $3 }' /proc/self/cgroup)
	MDB_CG="${mem%/}/mdbench-$$"
	cg_hierarchies >"$W/cgroups-original"
	: >"$W/cgroups-created"
	while IFS=$'\t' read -r dir path; do
		d=$dir
		local IFS=/
		for part in ${MDB_CG#/}; do
			d=$d/$part
			if [ ! -d "$d" ]; then
				mkdir "$d"
				echo "$d" >>"$W/cgroups-created"
				# A v1 cpuset starts with no CPUs and no memory nodes: nothing could join it.
				if [ -e "$d/cpuset.cpus" ]; then
					cat "${d%/*}/cpuset.cpus" >"$d/cpuset.cpus"
					cat "${d%/*}/cpuset.mems" >"$d/cpuset.mems"
				fi
			fi
		done
		echo $$ >"$d/cgroup.procs"
	done <"$W/cgroups-original"
}

# Processes still in the benchmark's cgroups, other than this shell, into STRAY. Only shell
# builtins and globs: a helper process forked here would find itself.
cg_stray_pids() {
	local dir procs p
	STRAY=()
	while IFS=$'\t' read -r dir _; do
		shopt -s globstar nullglob
		for procs in "$dir$MDB_CG"/**/cgroup.procs; do
			while read -r p; do
				[ "$p" != $$ ] && STRAY+=("$p")
			done <"$procs"
		done
		shopt -u globstar nullglob
	done <"$W/cgroups-original"
}

# Move back, remove everything below MDB_CG and what cg_setup created. Prints what it could
# not remove; returns 1 then.
cg_teardown() {
	local dir path d leaked=0
	[ -s "$W/cgroups-original" ] || return 0
	while IFS=$'\t' read -r dir path; do
		echo $$ >"$dir${path%/}/cgroup.procs" 2>/dev/null || echo $$ >"$dir/cgroup.procs"
	done <"$W/cgroups-original"
	while IFS=$'\t' read -r dir _; do
		[ -d "$dir$MDB_CG" ] || continue
		# Below our cgroup: what a tool under test left (nspawn's payload/supervisor, podman's
		# conmon parent). Say so, and remove it.
		while read -r d; do
			echo "cleanup: removing cgroup ${d#/sys/fs/cgroup/} (left by a tool under test)" >&2
			rmdir "$d" 2>/dev/null || { echo "leak: cannot remove cgroup $d" >&2; leaked=1; }
		done < <(find "$dir$MDB_CG" -mindepth 1 -depth -type d)
	done <"$W/cgroups-original"
	while read -r d; do
		rmdir "$d" 2>/dev/null || { echo "leak: cannot remove cgroup $d" >&2; leaked=1; }
	done < <(tac "$W/cgroups-created")
	: >"$W/cgroups-original"
	return $leaked
}
