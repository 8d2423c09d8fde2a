//! The security options a user can give `run` (docker's names), validated into a
//! [`SecuritySpec`] that is saved with the container, so `start` and `exec` apply the same.

use super::caps;
use super::SecurityError;
use std::path::{Component, PathBuf};

/// What the user asked for; the defaults are the confined container (docker's defaults).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct SecuritySpec {
    /// `--privileged`: every capability, no seccomp, no masked paths, no device filter.
    pub privileged: bool,
    /// `--cap-add`: canonical names (`CAP_NET_ADMIN`) or `ALL`.
    pub cap_add: Vec<String>,
    /// `--cap-drop`: canonical names or `ALL`.
    pub cap_drop: Vec<String>,
    /// `--security-opt no-new-privileges=false`: let setuid binaries gain privileges.
    pub new_privileges: bool,
    /// `--security-opt seccomp=unconfined`.
    pub seccomp_unconfined: bool,
    /// `--read-only`: the root filesystem is mounted read-only (with a writable /tmp, /run).
    pub read_only: bool,
    /// `--tmpfs PATH[:OPTIONS]`.
    pub tmpfs: Vec<TmpfsSpec>,
    /// `--user UID[:GID]` or `NAME[:GROUP]`, resolved in the container's /etc files.
    pub user: Option<String>,
}

/// A tmpfs the init mounts inside the container (`--tmpfs`, and /tmp and /run of `--read-only`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TmpfsSpec {
    /// Absolute, normalised path inside the container.
    pub target: PathBuf,
    pub read_only: bool,
    pub noexec: bool,
    pub nosuid: bool,
    pub nodev: bool,
    /// tmpfs's own options (`size=64m,mode=1777,uid=0,gid=0,nr_inodes=...`), validated.
    pub data: String,
}

impl TmpfsSpec {
    /// docker's defaults for `--tmpfs`: noexec, nosuid, nodev.
    pub fn new(target: PathBuf) -> TmpfsSpec {
        TmpfsSpec {
            target,
            read_only: false,
            noexec: true,
            nosuid: true,
            nodev: true,
            data: String::new(),
        }
    }
}

/// The raw flags, as `run` received them.
#[derive(Debug, Default)]
pub struct SecurityArgs<'a> {
    pub privileged: bool,
    pub cap_add: &'a [String],
    pub cap_drop: &'a [String],
    pub security_opt: &'a [String],
    pub read_only: bool,
    pub tmpfs: &'a [String],
    pub user: Option<&'a str>,
}

pub fn parse(args: &SecurityArgs) -> Result<SecuritySpec, SecurityError> {
    let mut spec = SecuritySpec {
        privileged: args.privileged,
        read_only: args.read_only,
        ..Default::default()
    };
    for name in args.cap_add {
        spec.cap_add.push(caps::canonical(name)?);
    }
    for name in args.cap_drop {
        spec.cap_drop.push(caps::canonical(name)?);
    }
    for opt in args.security_opt {
        security_opt(&mut spec, opt)?;
    }
    for t in args.tmpfs {
        let parsed = tmpfs(t)?;
        if spec.tmpfs.iter().any(|o| o.target == parsed.target) {
            return Err(SecurityError::Option {
                input: t.clone(),
                reason: "duplicate mount point".into(),
            });
        }
        spec.tmpfs.push(parsed);
    }
    if let Some(u) = args.user {
        user(u)?;
        spec.user = Some(u.to_string());
    }
    Ok(spec)
}

fn bad(input: &str, reason: impl Into<String>) -> SecurityError {
    SecurityError::Option {
        input: input.to_string(),
        reason: reason.into(),
    }
}

/// `no-new-privileges[=true|false]`, `no-new-privileges:true` (docker's old form),
/// `seccomp=unconfined`. Anything else is refused rather than ignored: a user who asks for
/// an AppArmor profile must not believe they got one.
fn security_opt(spec: &mut SecuritySpec, opt: &str) -> Result<(), SecurityError> {
    let (key, value) = match opt.split_once(['=', ':']) {
        Some((k, v)) => (k, Some(v)),
        None => (opt, None),
    };
    match (key, value) {
        ("no-new-privileges", None | Some("true")) => spec.new_privileges = false,
        ("no-new-privileges", Some("false")) => spec.new_privileges = true,
        ("no-new-privileges", Some(_)) => {
            return Err(bad(opt, "no-new-privileges takes true or false"))
        }
        ("seccomp", Some("unconfined")) => spec.seccomp_unconfined = true,
        ("seccomp", _) => {
            return Err(bad(
                opt,
                "only seccomp=unconfined is supported (mdrun has one built-in profile)",
            ))
        }
        _ => {
            return Err(bad(
                opt,
                "supported: no-new-privileges[=true|false], seccomp=unconfined",
            ))
        }
    }
    Ok(())
}

/// `PATH[:OPTIONS]` as docker's `--tmpfs`.
pub fn tmpfs(input: &str) -> Result<TmpfsSpec, SecurityError> {
    let (path, opts) = match input.split_once(':') {
        Some((p, o)) => (p, o),
        None => (input, ""),
    };
    let target = absolute_path(input, path)?;
    let mut spec = TmpfsSpec::new(target);
    let mut data = Vec::new();
    for opt in opts.split(',').filter(|o| !o.is_empty()) {
        match opt {
            "ro" => spec.read_only = true,
            "rw" => spec.read_only = false,
            "noexec" => spec.noexec = true,
            "exec" => spec.noexec = false,
            "nosuid" => spec.nosuid = true,
            "suid" => spec.nosuid = false,
            "nodev" => spec.nodev = true,
            "dev" => spec.nodev = false,
            _ => {
                let (k, v) = opt
                    .split_once('=')
                    .ok_or_else(|| bad(input, format!("unknown tmpfs option {opt:?}")))?;
                let ok = match k {
                    "size" | "nr_inodes" | "nr_blocks" => {
                        let digits = v.trim_end_matches(['k', 'K', 'm', 'M', 'g', 'G', '%']);
                        !digits.is_empty()
                            && digits.bytes().all(|b| b.is_ascii_digit())
                            && v.len() - digits.len() <= 1
                    }
                    "mode" => {
                        !v.is_empty()
                            && v.len() <= 4
                            && v.bytes().all(|b| (b'0'..=b'7').contains(&b))
                    }
                    "uid" | "gid" => {
                        !v.is_empty() && v.len() <= 10 && v.bytes().all(|b| b.is_ascii_digit())
                    }
                    _ => return Err(bad(input, format!("unknown tmpfs option {k:?}"))),
                };
                if !ok {
                    return Err(bad(
                        input,
                        format!("invalid value for tmpfs option {k}: {v:?}"),
                    ));
                }
                data.push(opt);
            }
        }
    }
    spec.data = data.join(",");
    Ok(spec)
}

fn absolute_path(input: &str, path: &str) -> Result<PathBuf, SecurityError> {
    let p = PathBuf::from(path);
    if !p.is_absolute() {
        return Err(bad(input, "the mount point must be an absolute path"));
    }
    let mut clean = PathBuf::from("/");
    for c in p.components() {
        match c {
            Component::Normal(n) => clean.push(n),
            Component::RootDir | Component::CurDir => {}
            Component::ParentDir | Component::Prefix(_) => {
                return Err(bad(input, "the mount point must not contain '..'"))
            }
        }
    }
    if clean.as_os_str() == "/" {
        return Err(bad(input, "cannot mount a tmpfs over /"));
    }
    Ok(clean)
}

/// `UID[:GID]` or `NAME[:GROUP]`: the syntax only; names are resolved inside the container.
fn user(input: &str) -> Result<(), SecurityError> {
    let (u, g) = match input.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (input, None),
    };
    let valid = |s: &str| {
        !s.is_empty()
            && s.len() <= 32
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    };
    if !valid(u) || g.is_some_and(|g| !valid(g)) {
        return Err(bad(input, "expected UID[:GID] or NAME[:GROUP]"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(list: &[&str]) -> Result<SecuritySpec, SecurityError> {
        let list: Vec<String> = list.iter().map(|s| s.to_string()).collect();
        parse(&SecurityArgs {
            security_opt: &list,
            ..Default::default()
        })
    }

    #[test]
    fn no_new_privileges_forms() {
        assert!(!opts(&["no-new-privileges"]).unwrap().new_privileges);
        assert!(!opts(&["no-new-privileges=true"]).unwrap().new_privileges);
        assert!(!opts(&["no-new-privileges:true"]).unwrap().new_privileges);
        assert!(opts(&["no-new-privileges=false"]).unwrap().new_privileges);
        assert!(opts(&["no-new-privileges=maybe"]).is_err());
    }

    #[test]
    fn seccomp_only_unconfined_and_unknown_options_refused() {
        assert!(opts(&["seccomp=unconfined"]).unwrap().seccomp_unconfined);
        assert!(opts(&["seccomp=/etc/profile.json"]).is_err());
        assert!(opts(&["apparmor=unconfined"]).is_err());
        assert!(opts(&["label=disable"]).is_err());
    }

    #[test]
    fn tmpfs_defaults_and_options() {
        let t = tmpfs("/scratch").unwrap();
        assert_eq!(t.target, PathBuf::from("/scratch"));
        assert!(t.noexec && t.nosuid && t.nodev && !t.read_only);
        assert_eq!(t.data, "");
        let t = tmpfs("/a/./b/:exec,size=64m,mode=1777,uid=1000,ro").unwrap();
        assert_eq!(t.target, PathBuf::from("/a/b"));
        assert!(!t.noexec && t.read_only);
        assert_eq!(t.data, "size=64m,mode=1777,uid=1000");
    }

    #[test]
    fn tmpfs_rejects_bad_input() {
        for bad in [
            "relative",
            "/",
            "/a/../b",
            "/x:size=",
            "/x:size=12q",
            "/x:mode=999",
            "/x:foo=bar",
            "/x:bogus",
            "/x:uid=-1",
            "/x:size=1,context=x",
        ] {
            assert!(tmpfs(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn user_syntax() {
        for good in [
            "1000",
            "1000:1000",
            "nobody",
            "www-data:www-data",
            "daemon:0",
        ] {
            assert!(user(good).is_ok(), "{good}");
        }
        for bad in ["", ":", "1000:", "a b", "x:y:z", "../etc"] {
            assert!(user(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
