//! The session keyring: by default the container's processes get a session keyring of
//! their own, `_ses.<id>`, joined with keyctl(KEYCTL_JOIN_SESSION_KEYRING) by the init and
//! by every `exec`, so that they do not share the caller's keys (runc's behaviour, and its
//! name); `create --no-new-keyring` keeps the caller's.

use super::Result;

const KEYCTL_SETPERM: libc::c_long = 5;
const KEYCTL_DESCRIBE: libc::c_long = 6;
const KEYCTL_JOIN_SESSION_KEYRING: libc::c_long = 1;
/// Search permission for the keyring's user, or for others in a user namespace (where the
/// processes' uid may differ from the keyring's), as runc sets it.
const KEY_USR_SEARCH: u32 = 0x0008_0000;
const KEY_OTH_SEARCH: u32 = 0x0000_0008;

pub fn name(id: &str) -> String {
    format!("_ses.{id}")
}

/// Join (or make) the session keyring `name`; the init (`Some(userns)`) also makes it
/// searchable, an `exec` only joins it (as runc's setns init). A kernel without keys
/// (ENOSYS) is no error, as in runc.
pub fn join(name: &str, searchable: Option<bool>) -> Result<()> {
    let c = std::ffi::CString::new(name).map_err(|_| format!("keyring name {name:?}"))?;
    // SAFETY: keyctl reads the NUL-terminated name; it changes only our credentials.
    let id = unsafe { libc::syscall(libc::SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, c.as_ptr()) };
    if id < 0 {
        return match nix::Error::last() {
            nix::Error::ENOSYS => Ok(()),
            e => Err(format!("join session keyring {name}: {e}")),
        };
    }
    let Some(userns) = searchable else {
        return Ok(());
    };
    let mut buf = vec![0u8; 512];
    // SAFETY: keyctl writes at most buf.len() bytes into buf.
    let n = unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            KEYCTL_DESCRIBE,
            id,
            buf.as_mut_ptr(),
            buf.len(),
        )
    };
    if n < 0 {
        return Err(format!(
            "describe session keyring {name}: {}",
            nix::Error::last()
        ));
    }
    // "type;uid;gid;perm;description", perm in hex.
    let text = String::from_utf8_lossy(&buf[..(n as usize).min(buf.len())]).into_owned();
    let perm = text
        .split(';')
        .nth(3)
        .and_then(|p| u32::from_str_radix(p, 16).ok())
        .ok_or_else(|| format!("session keyring {name}: description {text:?}"))?;
    let perm = perm
        | if userns {
            KEY_OTH_SEARCH
        } else {
            KEY_USR_SEARCH
        };
    // SAFETY: keyctl takes the key id and the permission mask by value.
    if unsafe { libc::syscall(libc::SYS_keyctl, KEYCTL_SETPERM, id, perm) } < 0 {
        return Err(format!(
            "set permissions of session keyring {name}: {}",
            nix::Error::last()
        ));
    }
    Ok(())
}
