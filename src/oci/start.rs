//! `start`: the prestart and startContainer hooks, then connect to the waiting init's start socket (it execs the process once it has
//! answered), then the poststart hooks. `run`: create, start, and unless --detach wait for
//! the process and delete the container.

use super::state::{Saved, Status, START_SOCKET};
use super::{hooks, Result};
use crate::cli::oci_args::{OciCli, RunArgs};
use nix::sys::socket::{connect, socket, AddressFamily, SockFlag, SockType};
use std::path::Path;

pub fn start(root: &Path, id: &str) -> Result<()> {
    let saved = Saved::load(root, id)?;
    match saved.status(root) {
        Status::Created => {}
        s => return Err(format!("cannot start container {id}: it is {}", s.as_str())),
    }
    let doc = saved.document(Status::Created);
    if let Some(h) = &saved.hooks {
        // prestart (deprecated) where runtime-tools checks it: after `start` is called,
        // before the process runs.
        // A failing one stops the container, and the lifecycle goes on to its deletion
        // (poststop hooks included).
        let ran = hooks::run_all("prestart", h.prestart().as_ref(), &doc)
            .and_then(|()| hooks::run_all("startContainer", h.start_container().as_ref(), &doc));
        if let Err(e) = ran {
            if let Err(d) = super::delete::delete(root, id, true) {
                super::log::warn(&d);
            }
            return Err(e);
        }
    }
    let path = super::state::dir(root, id).join(START_SOCKET);
    let s = socket(
        AddressFamily::Unix,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(|e| format!("socket: {e}"))?;
    let (addr, _via) = super::sockaddr::unix_addr(&path)?;
    connect(std::os::fd::AsRawFd::as_raw_fd(&s), &addr)
        .map_err(|e| format!("connect to {}: {e}", path.display()))?;
    let mut got = Vec::new();
    let mut b = [0u8; 1024];
    loop {
        match nix::unistd::read(&s, &mut b) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&b[..n]),
            Err(nix::Error::EINTR) => continue,
            Err(e) => return Err(format!("read {}: {e}", path.display())),
        }
    }
    let _ = std::fs::remove_file(&path);
    match got.split_first() {
        Some((b's', [])) => {}
        Some((b's', [b'E', msg @ ..])) | Some((b'E', msg)) => {
            return Err(format!("container {id}: {}", String::from_utf8_lossy(msg)))
        }
        _ => {
            return Err(format!(
                "container {id}: the init went away before it started"
            ))
        }
    }
    if let Some(h) = &saved.hooks {
        let doc = saved.document(Status::Running);
        hooks::run_all_warn("poststart", h.poststart().as_ref(), &doc);
    }
    Ok(())
}

pub fn run(cli: &OciCli, a: &RunArgs) -> Result<i32> {
    let created = super::create::create(cli, &a.create)?;
    let id = &a.create.id;
    if let Err(e) = start(&cli.root, id) {
        let _ = super::delete::delete(&cli.root, id, true);
        return Err(e);
    }
    if a.detach {
        return Ok(0);
    }
    let pid = nix::unistd::Pid::from_raw(created.saved.pid);
    let code = loop {
        match nix::sys::wait::waitpid(pid, None) {
            Ok(nix::sys::wait::WaitStatus::Exited(_, c)) => break c,
            Ok(nix::sys::wait::WaitStatus::Signaled(_, s, _)) => break 128 + s as i32,
            Ok(_) => continue,
            Err(nix::Error::EINTR) => continue,
            Err(e) => return Err(format!("wait for the container's process: {e}")),
        }
    };
    super::delete::delete(&cli.root, id, true)?;
    Ok(code)
}
