//! The last steps before execve, in the init and in an `exec`'d process: rlimits,
//! umask, no_new_privs, the five capability sets, the user, seccomp, the working
//! directory, then the program, looked up in the process's PATH. The order is runc's (as
//! `crate::security::apply`'s).

use super::seccomp::Compiled;
use super::Result;
use caps::{CapSet, Capability, CapsHashSet};
use oci_spec::runtime::{LinuxCapabilities, Process};
use std::ffi::CString;
use std::str::FromStr;

fn set_of(list: &Option<oci_spec::runtime::Capabilities>) -> CapsHashSet {
    list.iter()
        .flatten()
        .filter_map(|c| {
            let n = c.to_string();
            let n = if n.starts_with("CAP_") {
                n
            } else {
                format!("CAP_{n}")
            };
            Capability::from_str(&n).ok()
        })
        .collect()
}

/// config.json's rlimits, on this process or (`pid`) on another, with prlimit(2).
pub fn rlimits(p: &Process, pid: Option<nix::unistd::Pid>) -> Result<()> {
    for r in p.rlimits().iter().flatten() {
        let name = format!("{:?}", r.typ()).to_uppercase();
        let res = match name.as_str() {
            "RLIMITCPU" | "RLIMIT_CPU" => libc::RLIMIT_CPU,
            "RLIMITFSIZE" | "RLIMIT_FSIZE" => libc::RLIMIT_FSIZE,
            "RLIMITDATA" | "RLIMIT_DATA" => libc::RLIMIT_DATA,
            "RLIMITSTACK" | "RLIMIT_STACK" => libc::RLIMIT_STACK,
            "RLIMITCORE" | "RLIMIT_CORE" => libc::RLIMIT_CORE,
            "RLIMITRSS" | "RLIMIT_RSS" => libc::RLIMIT_RSS,
            "RLIMITNPROC" | "RLIMIT_NPROC" => libc::RLIMIT_NPROC,
            "RLIMITNOFILE" | "RLIMIT_NOFILE" => libc::RLIMIT_NOFILE,
            "RLIMITMEMLOCK" | "RLIMIT_MEMLOCK" => libc::RLIMIT_MEMLOCK,
            "RLIMITAS" | "RLIMIT_AS" => libc::RLIMIT_AS,
            "RLIMITLOCKS" | "RLIMIT_LOCKS" => libc::RLIMIT_LOCKS,
            "RLIMITSIGPENDING" | "RLIMIT_SIGPENDING" => libc::RLIMIT_SIGPENDING,
            "RLIMITMSGQUEUE" | "RLIMIT_MSGQUEUE" => libc::RLIMIT_MSGQUEUE,
            "RLIMITNICE" | "RLIMIT_NICE" => libc::RLIMIT_NICE,
            "RLIMITRTPRIO" | "RLIMIT_RTPRIO" => libc::RLIMIT_RTPRIO,
            "RLIMITRTTIME" | "RLIMIT_RTTIME" => libc::RLIMIT_RTTIME,
            other => return Err(format!("rlimit {other}: unknown")),
        };
        let lim = libc::rlimit {
            rlim_cur: r.soft(),
            rlim_max: r.hard(),
        };
        let target = pid.map_or(0, |p| p.as_raw());
        // SAFETY: prlimit reads the struct we pass and writes nothing (null old limit).
        if unsafe { libc::prlimit(target, res, &lim, std::ptr::null_mut()) } != 0 {
            return Err(format!(
                "setrlimit {name} {}:{}: {}",
                r.soft(),
                r.hard(),
                std::io::Error::last_os_error()
            ));
        }
    }
    Ok(())
}

fn apply_caps(c: &LinuxCapabilities) -> Result<()> {
    let e = |step: &str, err: caps::errors::CapsError| format!("capabilities: {step}: {err}");
    caps::set(None, CapSet::Effective, &set_of(c.effective())).map_err(|x| e("effective", x))?;
    caps::set(None, CapSet::Permitted, &set_of(c.permitted())).map_err(|x| e("permitted", x))?;
    caps::set(None, CapSet::Inheritable, &set_of(c.inheritable()))
        .map_err(|x| e("inheritable", x))?;
    caps::clear(None, CapSet::Ambient).map_err(|x| e("ambient", x))?;
    for cap in set_of(c.ambient()) {
        caps::raise(None, CapSet::Ambient, cap).map_err(|x| e("ambient", x))?;
    }
    Ok(())
}

fn drop_bounding(c: &LinuxCapabilities) -> Result<()> {
    let keep = set_of(c.bounding());
    for cap in caps::all() {
        if !keep.contains(&cap) && caps::has_cap(None, CapSet::Bounding, cap).unwrap_or(false) {
            caps::drop(None, CapSet::Bounding, cap)
                .map_err(|e| format!("capabilities: drop {cap} from the bounding set: {e}"))?;
        }
    }
    Ok(())
}

fn switch_user(p: &Process) -> Result<()> {
    let u = p.user();
    let mut groups: Vec<nix::unistd::Gid> = u
        .additional_gids()
        .iter()
        .flatten()
        .map(|g| nix::unistd::Gid::from_raw(*g))
        .collect();
    groups.dedup();
    // In a user namespace whose setgroups is "deny" (userns.rs) the groups cannot change:
    // fine while none are asked for.
    if !(groups.is_empty() && super::userns::setgroups_denied()) {
        nix::unistd::setgroups(&groups).map_err(|e| format!("setgroups: {e}"))?;
    }
    let gid = nix::unistd::Gid::from_raw(u.gid());
    let uid = nix::unistd::Uid::from_raw(u.uid());
    nix::unistd::setresgid(gid, gid, gid).map_err(|e| format!("setgid {}: {e}", u.gid()))?;
    // Keep the permitted set across setuid; the sets are cut to the spec's right after.
    // SAFETY: prctl(PR_SET_KEEPCAPS) changes a flag of this thread only.
    unsafe { libc::prctl(libc::PR_SET_KEEPCAPS, 1, 0, 0, 0) };
    nix::unistd::setresuid(uid, uid, uid).map_err(|e| format!("setuid {}: {e}", u.uid()))?;
    // SAFETY: as above.
    unsafe { libc::prctl(libc::PR_SET_KEEPCAPS, 0, 0, 0, 0) };
    Ok(())
}

/// Everything from the umask to execve. Only returns on failure.
/// Descriptors from 3 + `preserve_fds` up are closed at execve (`--preserve-fds`).
pub fn exec(p: &Process, seccomp: Option<&Compiled>, preserve_fds: u32) -> String {
    match prepare_and_exec(p, seccomp, preserve_fds) {
        Ok(never) => match never {},
        Err(e) => e,
    }
}

fn prepare_and_exec(
    p: &Process,
    seccomp: Option<&Compiled>,
    preserve_fds: u32,
) -> Result<std::convert::Infallible> {
    super::sched::io_priority(p)?;
    super::sched::scheduler(p)?;
    let umask = p.user().umask().unwrap_or(0o022);
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(umask));
    let nnp = p.no_new_privileges() == Some(true);
    if nnp {
        // SAFETY: prctl(PR_SET_NO_NEW_PRIVS) changes a flag of this thread only.
        if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
            return Err(format!("no_new_privs: {}", std::io::Error::last_os_error()));
        }
    } else if let Some(s) = seccomp {
        super::seccomp::install(s)?;
    }
    if let Some(c) = p.capabilities() {
        drop_bounding(c)?;
    }
    switch_user(p)?;
    match p.capabilities() {
        Some(c) => apply_caps(c)?,
        None => {
            for set in [CapSet::Effective, CapSet::Permitted, CapSet::Inheritable] {
                let _ = caps::clear(None, set);
            }
        }
    }
    let cwd = p.cwd();
    nix::unistd::chdir(cwd.as_path()).map_err(|e| format!("chdir {}: {e}", cwd.display()))?;
    let args = p.args().clone().unwrap_or_default();
    let env = p.env().clone().unwrap_or_default();
    let Some(cmd) = args.first() else {
        return Err("process.args is empty".into());
    };
    let path_var = env
        .iter()
        .find_map(|kv| kv.strip_prefix("PATH="))
        .unwrap_or("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    let program = if cmd.contains('/') {
        cmd.clone()
    } else {
        path_var
            .split(':')
            .map(|d| format!("{d}/{cmd}"))
            .find(|c| {
                std::fs::metadata(c).is_ok_and(|m| {
                    use std::os::unix::fs::PermissionsExt;
                    m.is_file() && m.permissions().mode() & 0o111 != 0
                })
            })
            .ok_or_else(|| format!("exec {cmd:?}: executable file not found in $PATH"))?
    };
    let cs = |v: &[String]| -> Result<Vec<CString>> {
        v.iter()
            .map(|s| CString::new(s.as_bytes()).map_err(|_| format!("NUL byte in {s:?}")))
            .collect()
    };
    let (argv, envp) = (cs(&args)?, cs(&env)?);
    let prog =
        CString::new(program.as_bytes()).map_err(|_| "NUL byte in the program".to_string())?;
    if nnp {
        if let Some(s) = seccomp {
            super::seccomp::install(s)?;
        }
    }
    // SAFETY: close_range with CLOSE_RANGE_CLOEXEC only sets flags on our own descriptors.
    unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3 + preserve_fds,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    };
    let e = nix::unistd::execve(&prog, &argv, &envp).unwrap_err();
    Err(format!("exec {program:?}: {}", e.desc()))
}
