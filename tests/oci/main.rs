//! Area `oci`: `mdrun-oci`, the OCI runtime, driven through runc's command line on
//! bundles made from the busybox rootfs.
//!
//! - util.rs: bundles (`mdrun-oci spec` edited as JSON) and the runner
//! - lifecycle.rs: create / state / start / kill / delete, run, exec, pause / resume
//! - create_flags.rs: create --no-pivot (a root pivot_root refuses) and --no-new-keyring
//! - hooks.rs: the hooks' order and the state on their stdin
//! - confinement.rs: seccomp, user, capabilities, rlimits, read-only root, masked paths, limits
//! - bad_config.rs: a bad config.json is one error line, exit 1, nothing left
//! - process_attrs.rs: linux.personality and process.ioPriority
//! - podman.rs: podman 4.3 with --runtime mdrun-oci: run --rm, --memory, -it, -d, exec, logs, pause, stop, rm
//! - podman_systemd.rs: the same with --cgroup-manager systemd in the test systemd: each container the scope libpod-<id>.scope in machine.slice, frozen by pause
//! - containerd.rs: containerd 1.6's runc v2 shim via `ctr --runc-binary`: run --rm, -d, exec, ps, pause, kill, delete
//! - cri.rs: containerd's CRI with mdrun-oci as BinaryName, driven by crictl: pod, container in its namespaces, exec, logs, stopp, rmp
//! - cri_systemd.rs: the CRI with SystemdCgroup = true in the test systemd: each container a scope in its pod's slice
//! - propagation.rs: an `rbind,rshared` volume with rootfsPropagation rshared (critest's Bidirectional case)
//! - systemd_cgroup.rs: `--systemd-cgroup` and `slice:prefix:name` against a private systemd
//! - timens.rs: time namespaces and linux.timeOffsets
//! - userns.rs: user namespaces, new with uid/gid mappings or joined by path; exec enters them
//! - state_files.rs: the state under --root is root's alone
//! - suites.rs: ../shared/tools, and the conformance suites oci-suites builds (once, under a lock)
//! - validation.rs: runtime-tools' validation suite, built by ../shared/tools/oci-suites

#[path = "../common/mod.rs"]
mod common;
#[path = "../common/systemd.rs"]
mod sandbox;
mod util;

mod bad_config;
mod confinement;
mod containerd;
mod create_flags;
mod cri;
mod cri_systemd;
mod hooks;
mod lifecycle;
mod podman;
mod podman_systemd;
mod process_attrs;
mod propagation;
mod state_files;
mod suites;
mod systemd_cgroup;
mod timens;
mod userns;
mod validation;
