# Remove everything the benchmark made, then check nothing is left. Sourced by bench/run;
# cleanup_all runs from the EXIT trap and returns 1 when something leaked.

cleanup_all() {
	local leaked=0 ids p m
	set +e
	echo "bench/run: cleaning up" >&2
	if [ -n "${MDRUN_CONFIG:-}" ] && [ -x "${MDRUN:-}" ]; then
		if mdrun_has ps && mdrun_has rm; then
			ids=$("$MDRUN" ps -aq 2>/dev/null)
			[ -n "$ids" ] && "$MDRUN" rm -f $ids >/dev/null
			ids=$("$MDRUN" ps -aq 2>/dev/null)
			[ -n "$ids" ] && { echo "leak: mdrun containers left: $ids" >&2; leaked=1; }
		fi
		ids=$("$MDRUN" images -q 2>/dev/null)
		[ -n "$ids" ] && "$MDRUN" rmi $ids >/dev/null
	fi
	if [ -n "${PODMAN:-}" ]; then
		$PODMAN rm -af -t 0 >/dev/null 2>&1
		$PODMAN rmi -af >/dev/null 2>&1
		[ -n "$($PODMAN ps -aq 2>/dev/null)" ] && { echo "leak: podman containers left" >&2; leaked=1; }
		[ -n "$($PODMAN images -q 2>/dev/null)" ] && { echo "leak: podman images left" >&2; leaked=1; }
	fi
	# containerd and its shims (the oci metric's ctr rows), before the process check.
	declare -F ctr_teardown >/dev/null && { ctr_teardown || leaked=1; }
	for rt in "${CRUN:-}" "${RUNC:-}" ${MDRUN_OCI:+"$MDRUN_OCI --root $W/mdrun-oci"}; do
		[ -z "$rt" ] && continue
		for id in $($rt list -q 2>/dev/null); do
			echo "leak: $rt container $id left" >&2
			$rt delete -f "$id" >/dev/null 2>&1
			leaked=1
		done
	done
	# Processes: anything still in our cgroups, or running from our work directory.
	cg_stray_pids
	for p in $(printf '%s\n' "${STRAY[@]}" $(pgrep -f "$W/") | sort -un); do
		[ -r "/proc/$p/cmdline" ] || continue
		echo "leak: process $p left: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -c1-120)" >&2
		kill -KILL "$p" 2>/dev/null
		leaked=1
	done
	# Mounts under $W, deepest first. containers/storage keeps one on purpose (its overlay
	# home, bound onto itself to make it private) until the storage is reset: not a leak.
	while read -r m; do
		case $m in
			"$W/podman/root/overlay") ;;
			*) echo "leak: mount $m left" >&2; leaked=1 ;;
		esac
		umount -l "$m"
	done < <(awk -v w="$W/" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
	[ -n "${MDB_CG:-}" ] && { cg_teardown || leaked=1; }
	mountpoint -q /run/systemd/nspawn && umount -l /run/systemd/nspawn
	[ -s "$W/made-nspawn-dir" ] && rm -rf /run/systemd/nspawn
	mountpoint -q /sys/fs/cgroup/unified && [ "$(stat -f -c %T /sys/fs/cgroup/unified)" = tmpfs ] &&
		umount /sys/fs/cgroup/unified
	rm -rf "$W"
	[ -e "$W" ] && { echo "leak: cannot remove $W" >&2; leaked=1; }
	rmdir "${W%/*}" 2>/dev/null || true # the default parent, /var/lib/mdbench, once empty
	if [ $leaked = 1 ]; then
		echo "bench/run: FAILED: something was left behind (see 'leak:' above)" >&2
		return 1
	fi
	echo "bench/run: nothing left behind" >&2
	return 0
}
