//! mdrun: a small container runtime native to systemd.
//!
//! The modules follow the life of a container:
//! `cli` (parse the request) -> `config` + `parse` (validate it into a [`spec::ContainerSpec`])
//! -> `image` (resolve the image's layers) -> `cgroups` (place it and limit it)
//! -> `launch` (clone the init, sync with it, supervise) -> `rootfs` (what the init does
//! inside: overlay, pivot_root, /proc, /dev, volumes) -> `commands` (one file per verb).

pub mod cgroups;
pub mod cli;
pub mod commands;
pub mod config;
pub mod error;
pub mod ids;
pub mod image;
pub mod launch;
pub mod logs;
pub mod parse;
pub mod paths;
pub mod placement;
pub mod private_dirs;
pub mod quote;
pub mod registry;
pub mod rootfs;
pub mod sealed_exe;
pub mod security;
pub mod spec;
pub mod state;
pub mod systemd;
