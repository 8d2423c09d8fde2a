# Metric 1: start-up. `true` in a busybox container, attached, removed at the end, with a
# 100 MB memory limit where the tool can set one; one hyperfine invocation for all rows.
# Sourced by bench/run.

# The cheap floors first, then mdrun and crun side by side, and mdrun once more at the end:
# the first case of a hyperfine run tends to come out slower (caches, CPU clock), and the
# two mdrun rows show how much order moves a figure on this machine.
start_cmds=(
	-n "floor: chroot" "$CHROOT"
	-n "floor: unshare + chroot" "$FLOOR"
	-n "crun" "$CRUN run --bundle $W/bundle-crun mdb-crun"
	-n "mdrun" "$MDRUN run --rm --memory 100m busybox true"
	-n "crun (crun spec defaults)" "$CRUN run --bundle $W/bundle-crun-defaults mdb-crun-defaults"
	-n "runc" "$RUNC run --bundle $W/bundle-runc mdb-runc"
	-n "systemd-nspawn (no limit)" "systemd-nspawn -D $NSPAWN_ROOT --quiet --register=no --keep-unit --private-network /bin/true"
	-n "podman" "$PODMAN_RUN --rm --memory 100m $PODMAN_IMAGE true"
	-n "mdrun (again, last)" "$MDRUN run --rm --memory 100m busybox true"
)
# The systemd manager row needs a systemd to talk to: MDBENCH_SYSTEMD_WRAP is a command
# prefix that runs its arguments inside the test systemd (e.g. the test fixture's exec), and
# mdrun there must pick the systemd manager.
if [ -n "${MDBENCH_SYSTEMD_WRAP:-}" ]; then
	start_cmds+=(-n "mdrun, systemd manager" "$MDBENCH_SYSTEMD_WRAP $MDRUN run --rm --memory 100m busybox true")
fi

hyperfine -N --style basic -w $((WARMUP * 3)) -r "$RUNS" \
	--setup "$BENCH/lib/idle start" \
	--export-json "$W/start.json" "${start_cmds[@]}" >&2

start_note="Same rootfs everywhere: mdrun's is an overlay of the imported image; crun, runc and the
floors use the unpacked directory; podman imports the same tarball. crun and runc: a
config.json asking for what mdrun does (mount, pid, uts, ipc, net and cgroup namespaces;
/proc, tmpfs /dev with devpts, shm, mqueue; read-only /sys; 100 MB limit; cgroupfs); the
\"crun spec defaults\" row adds crun's default hardening (dropped capabilities, masked paths).
systemd-nspawn has no memory limit (without systemd as PID 1 it cannot make a scope).
podman: --network=none, cgroupfs, ulimits at or below ours."
[ -z "${MDBENCH_SYSTEMD_WRAP:-}" ] &&
	start_note="$start_note
mdrun with the systemd manager: not measured (set MDBENCH_SYSTEMD_WRAP to a command prefix
that runs a command inside the test systemd)."
hyperfine_table "Start-up: \`run --rm\` of \`true\` with a 100 MB limit" "$W/start.json" crun start "$start_note"
