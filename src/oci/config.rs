//! config.json through the `oci-spec` crate (unknown fields are ignored, a wrong type is an
//! error), checked before anything is made: the root, the capabilities, the LSMs this host
//! lacks, the namespaces' paths, the seccomp profile.

use super::Result;
use oci_spec::runtime::Spec;
use std::path::{Component, Path, PathBuf};
use std::str::FromStr;

pub struct Bundle {
    pub dir: PathBuf,
    pub spec: Spec,
    /// The root file system, canonical.
    pub rootfs: PathBuf,
}

/// `dir/config.json`, parsed and checked.
pub fn load(dir: &Path) -> Result<Bundle> {
    let dir = dir
        .canonicalize()
        .map_err(|e| format!("bundle {}: {e}", dir.display()))?;
    let path = dir.join("config.json");
    let text =
        std::fs::read_to_string(&path).map_err(|e| format!("read {}: {e}", path.display()))?;
    let spec: Spec =
        serde_json::from_str(&text).map_err(|e| format!("parse {}: {e}", path.display()))?;
    let rootfs = root_path(&dir, &spec)?;
    check(&spec)?;
    Ok(Bundle { dir, spec, rootfs })
}

fn root_path(dir: &Path, spec: &Spec) -> Result<PathBuf> {
    let root = spec
        .root()
        .as_ref()
        .ok_or_else(|| "config.json: root is missing".to_string())?;
    let given = root.path();
    if given.is_relative() && given.components().any(|c| c == Component::ParentDir) {
        let joined = dir.join(given);
        let canon = joined.canonicalize().unwrap_or(joined);
        if !canon.starts_with(dir) {
            return Err(format!(
                "config.json: root.path {} leaves the bundle {}",
                given.display(),
                dir.display()
            ));
        }
    }
    let path = dir.join(given);
    let canon = path
        .canonicalize()
        .map_err(|e| format!("config.json: root.path {}: {e}", path.display()))?;
    if !canon.is_dir() {
        return Err(format!(
            "config.json: root.path {} is not a directory",
            canon.display()
        ));
    }
    Ok(canon)
}

fn check(spec: &Spec) -> Result<()> {
    if let Some(p) = spec.process() {
        if let Some(caps) = p.capabilities() {
            // oci-spec has parsed the names already: an unknown one failed the parse. Check
            // that this host's kernel knows each.
            let sets = [
                caps.bounding(),
                caps.effective(),
                caps.inheritable(),
                caps.permitted(),
                caps.ambient(),
            ];
            for set in sets.into_iter().flatten() {
                for c in set {
                    let name = c.to_string();
                    let name = if name.starts_with("CAP_") {
                        name
                    } else {
                        format!("CAP_{name}")
                    };
                    caps::Capability::from_str(&name)
                        .map_err(|_| format!("config.json: unknown capability {name}"))?;
                }
            }
        }
        if p.apparmor_profile()
            .as_deref()
            .is_some_and(|s| !s.is_empty())
            && !Path::new("/sys/kernel/security/apparmor").exists()
        {
            return Err(
                "config.json: process.apparmorProfile is set but AppArmor is not enabled on this host"
                    .into(),
            );
        }
        if p.selinux_label().as_deref().is_some_and(|s| !s.is_empty())
            && !Path::new("/sys/fs/selinux/enforce").exists()
        {
            return Err(
                "config.json: process.selinuxLabel is set but SELinux is not enabled on this host"
                    .into(),
            );
        }
        super::sched::check_io_priority(p)?;
        super::sched::check_scheduler(p)?;
        if p.args().as_ref().is_none_or(|a| a.is_empty()) {
            return Err("config.json: process.args is empty".into());
        }
        if !p.cwd().is_absolute() {
            return Err(format!(
                "config.json: process.cwd {} is not absolute",
                p.cwd().display()
            ));
        }
    }
    if let Some(linux) = spec.linux() {
        if linux
            .mount_label()
            .as_deref()
            .is_some_and(|s| !s.is_empty())
            && !Path::new("/sys/fs/selinux/enforce").exists()
        {
            return Err(
                "config.json: linux.mountLabel is set but SELinux is not enabled on this host"
                    .into(),
            );
        }
        for ns in linux.namespaces().iter().flatten() {
            if let Some(path) = ns.path() {
                if !path.exists() {
                    return Err(format!(
                        "config.json: namespace path {} does not exist",
                        path.display()
                    ));
                }
            }
        }
        super::userns::check(linux)?;
        super::timens::check(linux)?;
        if let Some(sc) = linux.seccomp() {
            super::seccomp::compile(sc)?;
        }
    }
    for m in spec.mounts().iter().flatten() {
        if m.destination().as_os_str().is_empty() {
            return Err("config.json: a mount without a destination".into());
        }
    }
    Ok(())
}
