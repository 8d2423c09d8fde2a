//! `--user` / `exec -u`: `UID[:GID]` or `NAME[:GROUP]`, names looked up in the container's
//! own /etc/passwd and /etc/group (the caller is already inside its root). Supplementary
//! groups are dropped, as docker does.

use super::SecurityError;
use nix::unistd::{Gid, Uid};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ids {
    pub uid: u32,
    pub gid: u32,
}

fn not_found(user: &str, what: &'static str) -> SecurityError {
    SecurityError::User {
        user: user.to_string(),
        reason: format!("no matching entries in {what}"),
    }
}

/// Resolve against the text of passwd and group files.
pub fn resolve_in(user: &str, passwd: &str, group: &str) -> Result<Ids, SecurityError> {
    let (u, g) = match user.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (user, None),
    };
    let entries = |text: &str| -> Vec<Vec<String>> {
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.split(':').map(str::to_string).collect())
            .collect()
    };
    let pw = entries(passwd);
    let entry = pw
        .iter()
        .find(|f| f.len() >= 4 && (f[0] == u || (u.parse::<u32>().is_ok() && f[2] == u)));
    let uid = match (u.parse::<u32>(), entry) {
        (Ok(n), _) => n,
        (Err(_), Some(f)) => f[2].parse().map_err(|_| SecurityError::User {
            user: user.to_string(),
            reason: format!("bad uid {:?} in /etc/passwd", f[2]),
        })?,
        (Err(_), None) => return Err(not_found(user, "/etc/passwd")),
    };
    let gid = match g {
        Some(g) => match g.parse::<u32>() {
            Ok(n) => n,
            Err(_) => {
                let gr = entries(group);
                let f = gr
                    .iter()
                    .find(|f| f.len() >= 3 && f[0] == g)
                    .ok_or_else(|| not_found(user, "/etc/group"))?;
                f[2].parse().map_err(|_| SecurityError::User {
                    user: user.to_string(),
                    reason: format!("bad gid {:?} in /etc/group", f[2]),
                })?
            }
        },
        // docker: a numeric user without a passwd entry runs with gid 0.
        None => entry.and_then(|f| f[3].parse().ok()).unwrap_or(0),
    };
    Ok(Ids { uid, gid })
}

/// Look `user` up in the current root's /etc files.
pub fn resolve(user: &str) -> Result<Ids, SecurityError> {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let group = std::fs::read_to_string("/etc/group").unwrap_or_default();
    resolve_in(user, &passwd, &group)
}

/// Become `ids`, keeping the permitted capabilities across setuid (PR_SET_KEEPCAPS) so that
/// the caller can still set the container's capability sets afterwards, as runc does;
/// execve of a non-root user then clears them.
pub fn switch(ids: Ids) -> Result<(), SecurityError> {
    let fail = |step: &'static str| {
        move |e: nix::Error| SecurityError::User {
            user: format!("{}:{}", ids.uid, ids.gid),
            reason: format!("{step}: {e}"),
        }
    };
    // SAFETY: prctl(PR_SET_KEEPCAPS) changes a flag of this thread only.
    unsafe { libc::prctl(libc::PR_SET_KEEPCAPS, 1, 0, 0, 0) };
    nix::unistd::setgroups(&[]).map_err(fail("setgroups"))?;
    nix::unistd::setgid(Gid::from_raw(ids.gid)).map_err(fail("setgid"))?;
    nix::unistd::setuid(Uid::from_raw(ids.uid)).map_err(fail("setuid"))?;
    // SAFETY: as above.
    unsafe { libc::prctl(libc::PR_SET_KEEPCAPS, 0, 0, 0, 0) };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\nwww:x:33:33::/var/www:/bin/sh\n";
    const GROUP: &str = "root:x:0:\nstaff:x:50:www\nnogroup:x:65534:\n";

    fn r(u: &str) -> Result<Ids, SecurityError> {
        resolve_in(u, PASSWD, GROUP)
    }

    #[test]
    fn names_and_numbers() {
        assert_eq!(
            r("nobody").unwrap(),
            Ids {
                uid: 65534,
                gid: 65534
            }
        );
        assert_eq!(r("33").unwrap(), Ids { uid: 33, gid: 33 });
        assert_eq!(r("1234").unwrap(), Ids { uid: 1234, gid: 0 });
        assert_eq!(r("1234:99").unwrap(), Ids { uid: 1234, gid: 99 });
        assert_eq!(r("www:staff").unwrap(), Ids { uid: 33, gid: 50 });
    }

    #[test]
    fn unknown_names_fail() {
        assert!(r("alice").is_err());
        assert!(r("www:wheel").is_err());
    }
}
