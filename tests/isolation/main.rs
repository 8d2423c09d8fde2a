//! Area `isolation`: what a container sees and may do, and what it cannot reach.
//!
//! - namespaces.rs: PID 1, hostname, /proc, /dev, a read-only /sys, loopback, no host processes
//! - rootfs_mounts.rs: the mount table, the cgroup namespace and view, the terminal
//! - defaults.rs: docker's confinement and the options that change it (`--cap-add`,
//!   `--cap-drop`, `--privileged`, `--security-opt`, `--read-only`, `--tmpfs`, `--user`)
//! - escape_exec.rs: a process `exec` is starting cannot be read through /proc before its exec
//! - escape_host.rs: escapes from the host's side: kernel settings, host processes and
//!   services, `/proc/<pid>/exe` (CVE-2019-5736)
//! - escape_syscalls.rs: escapes through system calls, from a probe inside a default container
//! - store_permissions.rs: the store is root's alone
//!
//! `exec` gets the same confinement: tests/lifecycle/exec.rs. Memory and fork bombs:
//! tests/limits/.

#[path = "../common/mod.rs"]
mod common;

mod defaults;
mod escape_exec;
mod escape_host;
mod escape_syscalls;
mod namespaces;
mod rootfs_mounts;
mod store_permissions;
