# Removes everything scripts/critest.sh made, then checks that nothing is left. Runs from its
# EXIT trap; returns 1 when something could not be removed.

# Processes whose command line mentions $1 (containerd's shims name its socket).
pids_mentioning() {
	local f p
	for f in /proc/[0-9]*/cmdline; do
		p=${f#/proc/}
		p=${p%/cmdline}
		[ "$p" = $$ ] && continue
		tr "\\0" " " 2>/dev/null <"$f" | grep -qF -- "$1" && echo "$p"
	done
	return 0
}

critest_cleanup() {
	local leaked=0 p id m d
	set +e
	echo "critest.sh: cleaning up" >&2
	if [ -S "$W/c.sock" ]; then
		# What critest left (a failed spec skips its own removal): pods, then containers.
		crictl rmp -af >/dev/null 2>&1
		crictl rm -af >/dev/null 2>&1
	fi
	# The shims, then containerd and the registry, each by pid.
	for p in $(pids_mentioning "$W/c.sock") "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	for p in $(pids_mentioning "$W/c.sock"); do kill -KILL "$p" 2>/dev/null; done
	# Containers the runtime still records, and processes left in our cgroups.
	for d in "$W"/runtime-root/*/; do
		[ -d "$d" ] || continue
		for id in $("$RT" --root "$d" list -q 2>/dev/null); do
			echo "critest.sh: removing container $id left in the runtime's root" >&2
			"$RT" --root "$d" delete -f "$id" >/dev/null 2>&1
		done
	done
	if [ -n "${MDB_CG:-}" ]; then
		cg_stray_pids
		for p in "${STRAY[@]}"; do
			echo "critest.sh: killing process $p left in our cgroup: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -c1-100)" >&2
			kill -KILL "$p" 2>/dev/null
		done
		sleep 0.2
	fi
	# Mounts under the work directory and the two tmpfs, deepest first.
	while read -r m; do
		umount -l "$m" 2>/dev/null || { echo "leak: cannot unmount $m" >&2; leaked=1; }
	done < <(awk -v w="$W/" 'index($5, w) == 1 || index($5, "/run/netns") == 1 || index($5, "/run/containerd") == 1 { print $5 }' \
		/proc/self/mountinfo | sort -ru)
	# Made here, but another containerd or `ip netns` user on the machine may have put its
	# own files there meanwhile (on the host, below our tmpfs): those are not ours.
	for d in "${MADE_DIRS[@]}"; do
		rmdir "$d" 2>/dev/null || echo "critest.sh: $d (made here) now holds another user's files: left" >&2
	done
	if [ -n "${MDB_CG:-}" ]; then
		cg_teardown || leaked=1
		# On a hybrid host the runtimes also make the container's cgroup in the unified
		# hierarchy (no controllers), which cg_setup does not list: remove what is below ours.
		if [ -d "/sys/fs/cgroup/unified$MDB_CG" ]; then
			while read -r d; do
				rmdir "$d" 2>/dev/null || { echo "leak: cannot remove cgroup $d" >&2; leaked=1; }
			done < <(find "/sys/fs/cgroup/unified$MDB_CG" -depth -type d)
		fi
	fi
	rm -rf "$W"
	[ -e "$W" ] && { echo "leak: cannot remove $W" >&2; leaked=1; }
	rmdir /var/lib/mdcritest 2>/dev/null
	if [ $leaked = 1 ]; then
		echo "critest.sh: FAILED: something was left behind (see 'leak:' above)" >&2
		return 1
	fi
	echo "critest.sh: nothing left behind" >&2
	return 0
}
