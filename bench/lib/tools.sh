# The tools under test, each set up over the same busybox root filesystem, with all of its
# state under $W. Sourced by bench/run.

# Every command line the cases use, so the tables name exactly what ran.
tools_prepare() {
	TAR=$W/busybox.tar
	bash "$REPO/scripts/busybox-rootfs.sh" "$TAR"

	# mdrun: its own store, cgroups under ours (the default parent), output to a file.
	mkdir -p "$W/mdrun"
	cat >"$W/mdrun/mdrun.toml" <<-TOML
		root = "$W/mdrun/root"
		run_root = "$W/mdrun/run"
		cgroup_manager = "cgroupfs"
		log_driver = "file"
	TOML
	export MDRUN_CONFIG=$W/mdrun/mdrun.toml
	"$MDRUN" import "$TAR" busybox >/dev/null

	# crun and runc: one bundle, the rootfs unpacked once; state under $W.
	ROOTFS=$W/rootfs
	mkdir -p "$ROOTFS" "$W/crun" "$W/runc" "$W/bundle-crun" "$W/bundle-runc" "$W/bundle-crun-defaults"
	tar -xf "$TAR" -C "$ROOTFS"
	oci_same_work "$ROOTFS" "$MDB_CG/crun" '["true"]' >"$W/bundle-crun/config.json"
	oci_same_work "$ROOTFS" "$MDB_CG/runc" '["true"]' >"$W/bundle-runc/config.json"
	oci_crun_defaults "$ROOTFS" "$MDB_CG/crun-defaults" >"$W/bundle-crun-defaults/config.json"
	CRUN="crun --root $W/crun"
	RUNC="runc --root $W/runc"

	# nspawn writes into its root (/etc/resolv.conf, /run): a copy of its own.
	NSPAWN_ROOT=$W/nspawn-rootfs
	mkdir -p "$NSPAWN_ROOT"
	tar -xf "$TAR" -C "$NSPAWN_ROOT"

	# podman: storage, run state and config under $W; no network, ever; cgroupfs under ours.
	# The ulimits: without CAP_SYS_RESOURCE here, podman's default rlimits (above our hard
	# limits) make crun fail with EPERM.
	mkdir -p "$W/podman"
	cat >"$W/podman/containers.conf" <<-CONF
		[containers]
		netns = "none"
		[engine]
		cgroup_manager = "cgroupfs"
		runtime_supports_json = ["crun", "runc", "mdrun-oci"]
		events_logger = "file"
	CONF
	export CONTAINERS_CONF=$W/podman/containers.conf
	PODMAN="podman --root $W/podman/root --runroot $W/podman/run --tmpdir $W/podman/tmp --storage-driver overlay"
	PODMAN_RUN="$PODMAN run --network=none --pull=never --cgroup-parent=$MDB_CG/podman --ulimit nofile=1024:1024 --ulimit nproc=1024:1024"
	PODMAN_CREATE="$PODMAN create --network=none --pull=never --cgroup-parent=$MDB_CG/podman --ulimit nofile=1024:1024 --ulimit nproc=1024:1024"
	$PODMAN import "$TAR" mdbench-busybox >/dev/null
	PODMAN_IMAGE=localhost/mdbench-busybox

	# The floor: the namespaces mdrun makes, no cgroup, no overlay, chroot instead of pivot_root.
	FLOOR="unshare --fork --pid --mount --uts --ipc --net --cgroup chroot $ROOTFS /bin/true"
	CHROOT="chroot $ROOTFS /bin/true"
}

# mdrun_has VERB: whether this mdrun has the subcommand (rows of unfinished verbs are
# skipped). Not `mdrun VERB --help`: an unknown verb is taken as `run`'s image argument.
mdrun_has() {
	"$MDRUN" --help | grep -qE "^  $1 "
}
