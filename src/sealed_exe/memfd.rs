//! Where no overlay can be made: a copy of mdrun's binary in a memfd, sealed against any
//! change (runc's CloneBinary). Costs a copy of the binary per `exec`, in memory.

use nix::fcntl::{fcntl, FcntlArg, SealFlag};
use nix::sys::memfd::{memfd_create, MFdFlags};
use nix::sys::stat::{fchmod, Mode};
use std::fs::File;
use std::os::fd::OwnedFd;

/// A sealed memfd holding what /proc/self/exe holds.
pub fn copy() -> Result<OwnedFd, String> {
    let mut src = File::open("/proc/self/exe").map_err(|e| format!("open /proc/self/exe: {e}"))?;
    let len = src
        .metadata()
        .map_err(|e| format!("stat /proc/self/exe: {e}"))?
        .len();
    let fd = create()?;
    let mut dst = File::from(fd);
    // std::io::copy uses copy_file_range or sendfile between two files.
    let copied = std::io::copy(&mut src, &mut dst)
        .map_err(|e| format!("copy /proc/self/exe into the memfd: {e}"))?;
    if copied != len {
        return Err(format!(
            "copied {copied} of the {len} bytes of /proc/self/exe"
        ));
    }
    let fd = OwnedFd::from(dst);
    fchmod(&fd, Mode::from_bits_truncate(0o511)).map_err(|e| format!("chmod the memfd: {e}"))?;
    // F_SEAL_EXEC (Linux 6.3): the mode cannot change either. Older kernels refuse it.
    let _ = fcntl(
        &fd,
        FcntlArg::F_ADD_SEALS(SealFlag::from_bits_retain(libc::F_SEAL_EXEC)),
    );
    let seals = SealFlag::F_SEAL_SEAL
        | SealFlag::F_SEAL_SHRINK
        | SealFlag::F_SEAL_GROW
        | SealFlag::F_SEAL_WRITE;
    fcntl(&fd, FcntlArg::F_ADD_SEALS(seals)).map_err(|e| format!("seal the memfd: {e}"))?;
    Ok(fd)
}

/// An executable memfd. MFD_EXEC (Linux 6.3) says so explicitly, as the kernel asks (and as
/// `vm.memfd_noexec = 1` requires); older kernels refuse the flag and make it executable.
fn create() -> Result<OwnedFd, String> {
    let flags = MFdFlags::MFD_CLOEXEC | MFdFlags::MFD_ALLOW_SEALING;
    let exec = MFdFlags::from_bits_retain(libc::MFD_EXEC);
    memfd_create(c"mdrun-sealed-exe", flags | exec)
        .or_else(|e| match e {
            nix::Error::EINVAL => memfd_create(c"mdrun-sealed-exe", flags),
            e => Err(e),
        })
        .map_err(|e| format!("memfd_create: {e}"))
}
