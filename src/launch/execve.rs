//! The last step of the init (and of an `mdrun exec`'d process): working directory, PATH
//! lookup inside the container, execve.
//! Exit codes as docker: 126 cannot execute, 127 not found, 125 anything else.

use super::init::{cstrings, ProcessPlan};
use nix::errno::Errno;
use nix::sys::stat::Mode;
use std::ffi::CString;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Only returns on failure: (exit code, message). `user` overrides the plan's (`exec -u`).
pub fn execve(plan: &ProcessPlan, user: Option<&str>) -> (u8, String) {
    nix::sys::stat::umask(Mode::from_bits_truncate(0o022));
    if let Err(msg) = super::workdir::enter(&plan.cwd) {
        return (125, msg);
    }
    // Capabilities, user, no_new_privs and seccomp: after the working directory is made
    // (as root, like docker), before the command is looked up (as the user it runs as).
    if let Err(e) = crate::security::apply(&plan.security, user) {
        return (125, e.to_string());
    }
    let Some(cmd) = plan.args.first() else {
        return (
            125,
            "no command given and the image has no default command".into(),
        );
    };
    let path_var = plan
        .env
        .iter()
        .find_map(|kv| kv.strip_prefix("PATH="))
        .unwrap_or(DEFAULT_PATH);
    let program = match lookup(cmd, path_var) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let (argv, envp) = match (cstrings(&plan.args), cstrings(&plan.env)) {
        (Ok(a), Ok(e)) => (a, e),
        (Err(m), _) | (_, Err(m)) => return (125, m),
    };
    // Close every descriptor mdrun had beyond stdio at exec time (the status pipe among
    // them, which is how mdrun learns that exec succeeded).
    // SAFETY: close_range with CLOSE_RANGE_CLOEXEC only sets flags on our own descriptors.
    unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3u32,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    };
    let Ok(prog) = CString::new(program.as_os_str().as_encoded_bytes()) else {
        return (125, format!("bad program path {program:?}"));
    };
    // Confined as the program will be (capabilities, user, seccomp), mdrun's descriptors
    // still open: what a container's process could reach if this one were dumpable.
    crate::stop_point::reached("execve:ready");
    let err = nix::unistd::execve(&prog, &argv, &envp).unwrap_err();
    match err {
        Errno::ENOENT => (127, format!("exec {cmd:?}: no such file or directory")),
        e => (126, format!("exec {cmd:?}: {}", e.desc().to_lowercase())),
    }
}

/// Find `cmd` as execvp(3) would, but in the container's PATH (we are already inside it).
fn lookup(cmd: &str, path_var: &str) -> Result<PathBuf, (u8, String)> {
    if cmd.contains('/') {
        return Ok(PathBuf::from(cmd));
    }
    let mut not_executable = None;
    for dir in path_var.split(':').filter(|d| !d.is_empty()) {
        let candidate = Path::new(dir).join(cmd);
        if let Ok(meta) = std::fs::metadata(&candidate) {
            if meta.is_file() && meta.permissions().mode() & 0o111 != 0 {
                return Ok(candidate);
            }
            not_executable.get_or_insert(candidate);
        }
    }
    match not_executable {
        Some(p) => Err((
            126,
            format!("exec {cmd:?}: {} is not executable", p.display()),
        )),
        None => Err((
            127,
            format!("exec {cmd:?}: executable file not found in $PATH"),
        )),
    }
}
