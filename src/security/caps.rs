//! Capabilities: docker's default set, `--cap-add`/`--cap-drop`/`--privileged`, and cutting
//! the init's five sets down to it before exec.

use super::SecurityError;
use caps::{CapSet, Capability, CapsHashSet};
use std::str::FromStr;

/// docker's default capabilities (moby `oci/caps/defaults.go`).
pub const DEFAULT: &[Capability] = &[
    Capability::CAP_CHOWN,
    Capability::CAP_DAC_OVERRIDE,
    Capability::CAP_FSETID,
    Capability::CAP_FOWNER,
    Capability::CAP_MKNOD,
    Capability::CAP_NET_RAW,
    Capability::CAP_SETGID,
    Capability::CAP_SETUID,
    Capability::CAP_SETFCAP,
    Capability::CAP_SETPCAP,
    Capability::CAP_NET_BIND_SERVICE,
    Capability::CAP_SYS_CHROOT,
    Capability::CAP_KILL,
    Capability::CAP_AUDIT_WRITE,
];

/// `net_admin`, `NET_ADMIN`, `cap_net_admin` -> `CAP_NET_ADMIN`; `all` -> `ALL`.
pub fn canonical(name: &str) -> Result<String, SecurityError> {
    let upper = name.trim().to_ascii_uppercase();
    if upper == "ALL" {
        return Ok(upper);
    }
    let full = if upper.starts_with("CAP_") {
        upper
    } else {
        format!("CAP_{upper}")
    };
    Capability::from_str(&full).map_err(|_| SecurityError::UnknownCapability {
        name: name.to_string(),
    })?;
    Ok(full)
}

/// The capabilities the container's processes keep.
///
/// As docker: start from the defaults (or from everything, for `--privileged` or a
/// `--cap-add ALL`), add, then drop (`--cap-drop ALL` empties the set, and adds given in the
/// same command line are put back, which is how docker reads `--cap-drop ALL --cap-add X`).
/// `keep_mknod` is false when no device filter can be attached (see `devices`): creating a
/// device node is then the way to reach the host's disks, so the capability goes.
pub fn resolve(privileged: bool, add: &[String], drop: &[String], keep_mknod: bool) -> CapsHashSet {
    let supported = supported();
    if privileged {
        return supported;
    }
    let parse = |n: &String| Capability::from_str(n).ok();
    let mut set: CapsHashSet = DEFAULT.iter().copied().collect();
    if drop.iter().any(|d| d == "ALL") {
        set.clear();
    } else {
        for c in drop.iter().filter_map(parse) {
            set.remove(&c);
        }
    }
    if add.iter().any(|a| a == "ALL") {
        set.extend(supported.iter().copied());
    } else {
        set.extend(add.iter().filter_map(parse));
    }
    // An explicit drop wins over an add, unless the drop was ALL (see above).
    if !drop.iter().any(|d| d == "ALL") {
        for c in drop.iter().filter_map(parse) {
            set.remove(&c);
        }
    }
    if !keep_mknod && !add.iter().any(|a| a == "CAP_MKNOD" || a == "ALL") {
        set.remove(&Capability::CAP_MKNOD);
    }
    set.retain(|c| supported.contains(c));
    set
}

/// The capabilities mdrun itself has (its bounding set): the most a container can get. mdrun
/// may run confined itself (in another container, under a service manager), so this can be
/// less than what the kernel knows.
pub fn supported() -> CapsHashSet {
    caps::read(None, CapSet::Bounding).unwrap_or_else(|_| caps::runtime::thread_all_supported())
}

fn fail(step: &'static str) -> impl FnOnce(caps::errors::CapsError) -> SecurityError {
    move |e| SecurityError::Capabilities {
        step,
        reason: e.to_string(),
    }
}

/// Drop from the bounding set everything outside `keep`. Needs CAP_SETPCAP, so it runs
/// while the init still has everything (runc does it first, in finalizeNamespace).
pub fn drop_bounding(keep: &CapsHashSet) -> Result<(), SecurityError> {
    for c in supported() {
        if !keep.contains(&c) {
            // Only those still in the set: the kernel refuses (EINVAL) caps it does not know.
            caps::drop(None, CapSet::Bounding, c).map_err(fail("drop from the bounding set"))?;
        }
    }
    Ok(())
}

/// Effective and permitted become `keep`; inheritable and ambient are emptied, as docker does
/// since CVE-2022-24769 (an inheritable set let a file with inheritable file capabilities
/// regain them across execve). For a non-root user, execve then clears permitted and
/// effective: no ambient set, no file capabilities.
pub fn apply(keep: &CapsHashSet) -> Result<(), SecurityError> {
    caps::clear(None, CapSet::Ambient).map_err(fail("clear the ambient set"))?;
    caps::clear(None, CapSet::Inheritable).map_err(fail("clear the inheritable set"))?;
    // Effective first: it must stay a subset of permitted at every step.
    caps::set(None, CapSet::Effective, keep).map_err(fail("set the effective set"))?;
    caps::set(None, CapSet::Permitted, keep).map_err(fail("set the permitted set"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(set: &CapsHashSet) -> Vec<String> {
        let mut v: Vec<String> = set.iter().map(|c| c.to_string()).collect();
        v.sort();
        v
    }

    fn s(list: &[&str]) -> Vec<String> {
        list.iter().map(|x| canonical(x).unwrap()).collect()
    }

    #[test]
    fn canonical_names() {
        assert_eq!(canonical("net_admin").unwrap(), "CAP_NET_ADMIN");
        assert_eq!(canonical("CAP_SYS_ADMIN").unwrap(), "CAP_SYS_ADMIN");
        assert_eq!(canonical("all").unwrap(), "ALL");
        assert!(canonical("CAP_MAKE_COFFEE").is_err());
        assert!(canonical("").is_err());
    }

    #[test]
    fn defaults_are_dockers_fourteen() {
        let set = resolve(false, &[], &[], true);
        assert_eq!(set.len(), 14, "{:?}", names(&set));
        assert!(!set.contains(&Capability::CAP_SYS_ADMIN));
        assert!(!set.contains(&Capability::CAP_SYS_MODULE));
        assert!(!set.contains(&Capability::CAP_SYS_TIME));
    }

    #[test]
    fn add_drop_and_all() {
        let set = resolve(false, &s(&["sys_time"]), &s(&["chown"]), true);
        assert!(set.contains(&Capability::CAP_SYS_TIME) && !set.contains(&Capability::CAP_CHOWN));
        let set = resolve(false, &s(&["net_admin"]), &s(&["all"]), true);
        assert_eq!(names(&set), vec!["CAP_NET_ADMIN"]);
        let set = resolve(false, &[], &s(&["all"]), true);
        assert!(set.is_empty());
        let set = resolve(false, &s(&["all"]), &s(&["sys_admin"]), true);
        assert!(
            !set.contains(&Capability::CAP_SYS_ADMIN) && set.contains(&Capability::CAP_SYS_MODULE)
        );
        assert_eq!(resolve(true, &[], &s(&["all"]), false), supported());
    }

    #[test]
    fn mknod_goes_without_a_device_filter_unless_asked_for() {
        assert!(!resolve(false, &[], &[], false).contains(&Capability::CAP_MKNOD));
        assert!(resolve(false, &s(&["mknod"]), &[], false).contains(&Capability::CAP_MKNOD));
    }
}
