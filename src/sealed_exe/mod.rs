//! `mdrun exec` runs from a sealed view of its own binary (CVE-2019-5736).
//!
//! The process that `exec` forks into a container is visible there (it joins the
//! container's PID namespace) until it execs the command, and the command can be a script
//! whose interpreter is `/proc/self/exe`: the kernel then runs that process's own binary,
//! inside the container, as a process of the container. Either way the container can open
//! `/proc/<pid>/exe`, keep the handle (O_PATH) and, once no process runs the binary (ETXTBSY
//! no longer applies), reopen it through `/proc/self/fd/N` for writing: the host's mdrun,
//! which root runs next.
//!
//! So, as runc does (libcontainer/exeseal), `exec` first re-executes itself from a file that
//! cannot be written through any handle: a read-only overlayfs mount that has the binary's
//! directory as a lower layer and is attached nowhere (`overlay`: no copy; the mount takes
//! about 0.1 ms, the second start of mdrun most of the 1.7 ms an `exec` costs more), or
//! where that cannot be made, a sealed memfd copy (`memfd`: about 9 ms more for a 6 MB
//! binary). The re-executed process knows itself by [`MARKER`]. `run` and `start` need
//! none of it: the only process of a container that can run mdrun's binary is its PID 1
//! (before its exec, or after it through such a script), and the init's parent, the
//! supervisor, runs that binary on the host, which keeps it busy (ETXTBSY) for as long as
//! the container lives (the init dies with it: PR_SET_PDEATHSIG).

mod memfd;
mod overlay;

use nix::fcntl::AtFlags;
use std::ffi::CString;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Set (to its pid, which execve keeps) by the process that re-executes itself; a value
/// inherited from another process is not believed.
const MARKER: &str = "_MDRUN_SEALED_EXE";

#[derive(Debug, thiserror::Error)]
#[error("run exec from a sealed copy of mdrun: {0}")]
pub struct SealError(String);

/// Unless this process already runs from the sealed view, re-execute it from one, with the
/// same arguments and environment; returns only when it already runs sealed, or on error.
/// `lower`: an empty directory of mdrun's own (made if missing), the overlay's second layer.
pub fn reexec(lower: &Path) -> Result<(), SealError> {
    if is_sealed() {
        return Ok(());
    }
    let exe = open_sealed(lower)?;
    let cstring = |bytes: &[u8]| CString::new(bytes).ok();
    let args: Vec<CString> = std::env::args_os()
        .filter_map(|a| cstring(a.as_bytes()))
        .collect();
    let mut env: Vec<CString> = std::env::vars_os()
        .filter(|(k, _)| k != MARKER)
        .filter_map(|(k, v)| cstring(&[k.as_bytes(), b"=", v.as_bytes()].concat()))
        .collect();
    env.extend(cstring(
        format!("{MARKER}={}", std::process::id()).as_bytes(),
    ));
    let Err(e) = nix::unistd::execveat(&exe, c"", &args, &env, AtFlags::AT_EMPTY_PATH);
    Err(SealError(format!("execveat the sealed binary: {e}")))
}

/// Are we the re-executed process? Takes the marker out of our environment either way, so
/// that nothing we start inherits it.
fn is_sealed() -> bool {
    let Some(value) = std::env::var_os(MARKER) else {
        return false;
    };
    // Single-threaded here (before any exec step starts a thread), as set_var/remove_var
    // need.
    std::env::remove_var(MARKER);
    value.to_str() == Some(&std::process::id().to_string())
}

/// A descriptor of our own binary that nothing can reopen for writing.
fn open_sealed(lower: &Path) -> Result<OwnedFd, SealError> {
    match overlay::open(lower) {
        Ok(fd) => Ok(fd),
        Err(overlay) => memfd::copy().map_err(|memfd| {
            SealError(format!(
                "read-only overlay: {overlay}; sealed memfd copy: {memfd}"
            ))
        }),
    }
}

#[cfg(test)]
mod tests;
