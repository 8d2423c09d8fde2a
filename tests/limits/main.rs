//! Area `limits`: what a container may use, and what happens at and past the limits.
//!
//! - cgroups.rs: `--memory`, `--memory-swap`, `--pids-limit`, `--cpus`, `--cpuset-cpus`,
//!   `--cpu-shares`, `--cgroup-parent`, read back from the kernel
//! - faults.rs: load (200 containers at once) and containers that end badly (OOM, SIGTERM
//!   ignored, children outliving PID 1, mdrun killed under them)
//! - full_disk.rs: a store that fills up (file log driver, write layers)
//!
//! The tests that burn CPU or memory, or measure CPU time, hold the heavy lock
//! (`common::heavy_lock`), so that no two of them run at the same time. The journald driver
//! on a full store: tests/systemd/logs_full.rs.

#[path = "../common/mod.rs"]
mod common;

mod cgroups;
mod faults;
mod full_disk;
