//! Area `running`: `mdrun run` and what it takes, through the binary against the real kernel.
//! (The directory is not `run`: tests/run is the suite's script.)
//!
//! - basics.rs: stdio, exit codes, `-e`/`--env-file`, `-w`, the default command, `--rm`
//! - config.rs: `--config FILE` (a container in TOML) and the global `MDRUN_CONFIG`
//! - volumes.rs: `-v`: host directories and named volumes
//! - tty.rs: `-t`, `-i`: a terminal of its own, resizes, settings restored
//! - overlay.rs: the root: the image's layers below, a write layer of its own
//! - bad_input.rs: refused flags, names, sizes and tarballs: exit 125, nothing left
//! - bad_input_headers.rs: tar headers too large to hold in memory (PAX, long names)
//! - bad_input_rootfs.rs: refused images and working directories the init finds
//!
//! `run -d`: tests/lifecycle/detach.rs; `--memory`, `--cpus` and the other limits:
//! tests/limits/; the confinement a container gets: tests/isolation/; the systemd cgroup
//! manager: tests/systemd/.

#[path = "../common/mod.rs"]
mod common;

mod bad_input;
mod bad_input_headers;
mod bad_input_rootfs;
mod basics;
mod config;
mod overlay;
mod tty;
mod volumes;
