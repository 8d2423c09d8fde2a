# OCI bundles for crun and runc over the same busybox root filesystem. Sourced by bench/run.

# oci_same_work ROOTFS CGROUP_PATH ARGS_JSON: a config.json that asks crun/runc for what mdrun
# does on `run`: new mount, pid, uts, ipc, network and cgroup namespaces; /proc, a tmpfs /dev
# with devpts, shm and mqueue, a read-only /sys; a 100 MB memory limit; full root
# capabilities, no masked paths, no rlimits, no seccomp (mdrun sets none of these yet).
oci_same_work() {
	local rootfs=$1 cgroup=$2 args=$3
	jq -n --arg root "$rootfs" --arg cg "$cgroup" --argjson args "$args" '{
		ociVersion: "1.0.2",
		process: {
			terminal: false, user: {uid: 0, gid: 0}, args: $args, cwd: "/",
			env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
		},
		root: {path: $root, readonly: false},
		hostname: "bench",
		mounts: [
			{destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"]},
			{destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"]},
			{destination: "/dev/pts", type: "devpts", source: "devpts", options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
			{destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
			{destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"]},
			{destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"]}
		],
		linux: {
			cgroupsPath: $cg,
			resources: {memory: {limit: 104857600}},
			namespaces: [{type: "pid"}, {type: "network"}, {type: "ipc"}, {type: "uts"}, {type: "mount"}, {type: "cgroup"}]
		}
	}'
}

# oci_crun_defaults ROOTFS CGROUP_PATH: `crun spec`'s own defaults (capabilities dropped to
# three, masked and read-only paths, an rlimit, no_new_privs, /sys/fs/cgroup mounted, no
# cgroup namespace) with `true`, no terminal and the same memory limit: what crun users run.
oci_crun_defaults() {
	local rootfs=$1 cgroup=$2 tmp
	tmp=$(mktemp -d)
	(cd "$tmp" && crun spec)
	jq --arg root "$rootfs" --arg cg "$cgroup" '
		.process.terminal = false | .process.args = ["true"] | .root.path = $root
		| .linux.cgroupsPath = $cg | .linux.resources.memory = {limit: 104857600}' "$tmp/config.json"
	rm -rf "$tmp"
}
