//! mdrun: a small container runtime native to systemd.
//!
//! Two layers. The front-end: `cli` (the command line) and `commands` (one file per verb:
//! parse, call, print), which nothing else imports. Under it, the container library,
//! `container` (the life of one container, a file an operation), over the rooms it drives:
//! `config` + `parse` (validate the request into a [`spec::ContainerSpec`]), `image` (the
//! image's layers), `placement` + `cgroups` + `systemd` (place it and limit it), `launch`
//! (clone the init, sync with it, supervise), `rootfs` (what the init does inside:
//! overlay, pivot_root, /proc, /dev, volumes), `security`, `logs`, and `state` (the record).
//! The lower rooms (`state`, `cgroups`, `image`, `systemd`, `parse`) import none of the
//! upper ones.

pub mod cgroups;
pub mod cli;
pub mod commands;
pub mod config;
pub mod container;
pub mod error;
pub mod ids;
pub mod image;
pub mod launch;
pub mod logs;
pub mod mountinfo;
pub mod network;
pub mod oci;
pub mod parse;
pub mod paths;
pub mod placement;
pub mod policy;
pub mod private_dirs;
pub mod private_overlay;
pub mod quote;
pub mod registry;
pub mod rootfs;
pub mod sealed_exe;
pub mod security;
pub mod spec;
pub mod state;
pub mod stop_point;
pub mod systemd;
pub mod time;
