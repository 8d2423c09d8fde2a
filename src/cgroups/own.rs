//! Where mdrun itself runs (/proc/self/cgroup), and where a container's cgroup goes
//! relative to it: `<own>/<name>`, or `<parent>/<name>` from the hierarchy's root.

use super::CgroupError;
use std::path::{Path, PathBuf};

/// One line of /proc/self/cgroup, `ID:CONTROLLERS:PATH`. The v2 line has no controllers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OwnEntry {
    pub controllers: Vec<String>,
    pub path: String,
}

/// Parse the text of /proc/self/cgroup. The path is everything after the second colon: it
/// may itself contain colons (`/system.slice/containerd.service/x.slice:cri:abc`).
pub(crate) fn parse_proc_cgroup(text: &str) -> Vec<OwnEntry> {
    text.lines()
        .filter_map(|line| {
            let mut parts = line.splitn(3, ':');
            let _id = parts.next()?;
            let controllers = parts.next()?;
            let path = parts.next()?;
            Some(OwnEntry {
                controllers: controllers
                    .split(',')
                    .filter(|c| !c.is_empty())
                    .map(str::to_string)
                    .collect(),
                path: path.to_string(),
            })
        })
        .collect()
}

/// Our path in the v1 hierarchy that carries `controller` (`memory`, `name=systemd`).
pub(crate) fn own_v1<'a>(entries: &'a [OwnEntry], controller: &str) -> Option<&'a str> {
    entries
        .iter()
        .find(|e| e.controllers.iter().any(|c| c == controller))
        .map(|e| e.path.as_str())
}

/// Our path in the v2 hierarchy: the `0::PATH` line.
pub(crate) fn own_v2(entries: &[OwnEntry]) -> Option<&str> {
    entries
        .iter()
        .find(|e| e.controllers.is_empty())
        .map(|e| e.path.as_str())
}

/// The path of the container's cgroup from the root of a hierarchy: `<base>/<name>`, where
/// base is `parent` when given (relative or not, it counts from the root, like docker's
/// `--cgroup-parent`) and our own cgroup otherwise. `own` is None when that is unknown.
pub(crate) fn container_path(
    own: Option<&str>,
    parent: Option<&str>,
    name: &str,
    controller: &str,
) -> Result<String, CgroupError> {
    check_name(name)?;
    let (what, base) = match (parent, own) {
        (Some(p), _) => ("parent", p),
        (None, Some(o)) => ("own path", o),
        (None, None) => {
            return Err(CgroupError::OwnCgroupUnknown {
                controller: controller.to_string(),
            })
        }
    };
    let mut path = String::new();
    for comp in base.split('/').filter(|c| !c.is_empty()) {
        // ".." would climb out of the place the caller chose (or out of our own cgroup).
        if comp == "." || comp == ".." {
            return Err(CgroupError::InvalidPath {
                what,
                value: base.to_string(),
                reason: "no . or .. components",
            });
        }
        path.push('/');
        path.push_str(comp);
    }
    path.push('/');
    path.push_str(name);
    Ok(path)
}

fn check_name(name: &str) -> Result<(), CgroupError> {
    let reason = if name.is_empty() {
        "empty"
    } else if name == "." || name == ".." {
        "not . or .."
    } else if name.contains('/') || name.contains('\0') {
        "one path component, no / or NUL"
    } else {
        return Ok(());
    };
    Err(CgroupError::InvalidPath {
        what: "name",
        value: name.to_string(),
        reason,
    })
}

/// The directory of cgroup `path` (absolute in its hierarchy) under a mount of that
/// hierarchy at `mount_point` whose mount root is `mount_root` (field 4 of mountinfo,
/// `/` unless the mount shows only a subtree, as in a container).
pub(crate) fn dir_under_mount(
    mount_point: &Path,
    mount_root: &Path,
    path: &str,
) -> Result<PathBuf, CgroupError> {
    match Path::new(path).strip_prefix(mount_root) {
        Ok(rel) => Ok(mount_point.join(rel)),
        Err(_) => Err(CgroupError::OutsideMount {
            path: path.to_string(),
            mount: mount_point.to_path_buf(),
            root: mount_root.to_path_buf(),
        }),
    }
}

/// A cgroup (v1) or cgroup2 mount, from a line of /proc/self/mountinfo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CgroupMount {
    pub mount_root: PathBuf,
    pub mount_point: PathBuf,
    pub fs_type: String,
    pub super_opts: Vec<String>,
}

/// The cgroup and cgroup2 mounts in the text of a mountinfo file (proc(5): fields 4 and 5
/// are the root and the mount point; after " - ": type, source, superblock options).
pub(crate) fn cgroup_mounts(mountinfo: &str) -> Vec<CgroupMount> {
    mountinfo
        .lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let f: Vec<&str> = left.split(' ').collect();
            let r: Vec<&str> = right.split(' ').collect();
            let fs_type = *r.first()?;
            if fs_type != "cgroup" && fs_type != "cgroup2" {
                return None;
            }
            Some(CgroupMount {
                mount_root: PathBuf::from(*f.get(3)?),
                mount_point: PathBuf::from(*f.get(4)?),
                fs_type: fs_type.to_string(),
                super_opts: r.get(2)?.split(',').map(str::to_string).collect(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // This host's hybrid layout: memory nested, the rest at the root.
    const HYBRID: &str = "9:name=systemd:/\n8:pids:/\n4:memory:/process_api/38bf\n\
                          3:cpuset:/\n2:cpu,cpuacct:/a:b:c\n0::/\n";

    #[test]
    fn proc_cgroup_lines_give_controllers_and_paths() {
        let e = parse_proc_cgroup(HYBRID);
        assert_eq!(e.len(), 6);
        assert_eq!(own_v1(&e, "memory"), Some("/process_api/38bf"));
        assert_eq!(own_v1(&e, "pids"), Some("/"));
        assert_eq!(own_v1(&e, "name=systemd"), Some("/"));
        // A path with colons stays whole; co-mounted controllers share the line.
        assert_eq!(own_v1(&e, "cpuacct"), Some("/a:b:c"));
        assert_eq!(own_v1(&e, "cpu"), Some("/a:b:c"));
        assert_eq!(own_v1(&e, "freezer"), None);
        assert_eq!(own_v2(&e), Some("/"));
    }

    #[test]
    fn pure_v2_proc_cgroup_has_only_the_unified_line() {
        let e = parse_proc_cgroup("0::/user.slice/user-0.slice/session-1.scope\n");
        assert_eq!(own_v2(&e), Some("/user.slice/user-0.slice/session-1.scope"));
        assert_eq!(own_v1(&e, "memory"), None);
    }

    #[test]
    fn no_parent_nests_under_own_cgroup() {
        let p = container_path(Some("/process_api/38bf"), None, "mdrun-ab", "memory").unwrap();
        assert_eq!(p, "/process_api/38bf/mdrun-ab");
        assert_eq!(
            container_path(Some("/"), None, "mdrun-ab", "cpu").unwrap(),
            "/mdrun-ab"
        );
    }

    #[test]
    fn parent_counts_from_the_root_relative_or_not() {
        let own = Some("/process_api/38bf");
        let abs = container_path(own, Some("/a/b"), "c", "memory").unwrap();
        let rel = container_path(own, Some("a/b/"), "c", "memory").unwrap();
        assert_eq!(abs, "/a/b/c");
        assert_eq!(rel, "/a/b/c");
        assert_eq!(container_path(own, Some("/"), "c", "memory").unwrap(), "/c");
        assert_eq!(
            container_path(own, Some("//a//b"), "c", "memory").unwrap(),
            "/a/b/c"
        );
    }

    #[test]
    fn dot_dot_and_bad_names_are_refused() {
        for (parent, name) in [
            (Some("/a/../b"), "c"),
            (Some("a/./b"), "c"),
            (None, ".."),
            (None, ""),
            (None, "a/b"),
        ] {
            let r = container_path(Some("/"), parent, name, "memory");
            assert!(
                matches!(r, Err(CgroupError::InvalidPath { .. })),
                "{parent:?} {name}"
            );
        }
        let r = container_path(None, None, "c", "memory");
        assert!(matches!(r, Err(CgroupError::OwnCgroupUnknown { .. })));
    }

    #[test]
    fn mount_root_is_stripped_and_outside_paths_refused() {
        let mp = Path::new("/sys/fs/cgroup/memory");
        let d = dir_under_mount(mp, Path::new("/"), "/process_api/x/c").unwrap();
        assert_eq!(d, PathBuf::from("/sys/fs/cgroup/memory/process_api/x/c"));
        // A mount that shows only /docker/abc of its hierarchy (a container's view).
        let d = dir_under_mount(mp, Path::new("/docker/abc"), "/docker/abc/c").unwrap();
        assert_eq!(d, PathBuf::from("/sys/fs/cgroup/memory/c"));
        let r = dir_under_mount(mp, Path::new("/docker/abc"), "/other/c");
        assert!(matches!(r, Err(CgroupError::OutsideMount { .. })));
    }

    #[test]
    fn cgroup_mounts_of_a_hybrid_host_include_cgroup2_and_named_hierarchies() {
        let text = "35 27 0:30 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n\
                    36 27 0:31 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n\
                    37 27 0:32 /sub /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw,nsdelegate\n\
                    22 27 0:21 / /proc rw,relatime - proc proc rw\n";
        let m = cgroup_mounts(text);
        assert_eq!(m.len(), 3);
        assert_eq!(m[1].super_opts, ["rw", "xattr", "name=systemd"]);
        assert_eq!(m[2].fs_type, "cgroup2");
        assert_eq!(m[2].mount_root, PathBuf::from("/sub"));
        assert_eq!(m[2].mount_point, PathBuf::from("/sys/fs/cgroup/unified"));
    }
}
