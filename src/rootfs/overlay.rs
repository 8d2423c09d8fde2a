//! The union mount: read-only image layers below, the container's write layer on top.

use super::{NixContext, RootfsError, RootfsPlan};
use crate::private_overlay::{escape, lower_dirs};
use nix::mount::{mount as sys_mount, MsFlags};
use std::fmt::Write;

pub fn options(plan: &RootfsPlan) -> String {
    let mut opts = format!("lowerdir={}", lower_dirs(&plan.lower_dirs));
    let _ = write!(
        opts,
        ",upperdir={},workdir={}",
        escape(&plan.upper_dir),
        escape(&plan.work_dir)
    );
    if plan.volatile {
        opts.push_str(",volatile");
    }
    opts
}

pub fn mount(plan: &RootfsPlan) -> Result<(), RootfsError> {
    sys_mount(
        Some("overlay"),
        &plan.mountpoint,
        Some("overlay"),
        MsFlags::empty(),
        Some(options(plan).as_str()),
    )
    .at("mount overlay on", &plan.mountpoint)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn options_list_layers_topmost_first_and_escape_separators() {
        let plan = RootfsPlan {
            lower_dirs: vec![PathBuf::from("/l/top"), PathBuf::from("/l/b,ase")],
            upper_dir: PathBuf::from("/c/up:per"),
            work_dir: PathBuf::from("/c/work"),
            mountpoint: PathBuf::from("/m"),
            volumes: vec![],
            mask_paths: true,
            read_only: false,
            tmpfs: vec![],
            volatile: false,
            cgroup: Default::default(),
        };
        assert_eq!(
            options(&plan),
            "lowerdir=/l/top:/l/b\\,ase,upperdir=/c/up\\:per,workdir=/c/work"
        );
    }
}
