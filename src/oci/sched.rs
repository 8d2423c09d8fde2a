//! What runtime-spec asks of the process's kernel attributes beyond its confinement:
//! `linux.personality` (the execution domain: LINUX32 makes `uname -m` say i686 on x86_64)
//! in the init, and `process.ioPriority` (ioprio_set) for the init's process and an
//! `exec`'d one, as runc sets both.

use super::Result;
use oci_spec::runtime::{IOPriorityClass, Linux, LinuxPersonalityDomain, Process};

const PER_LINUX: libc::c_ulong = 0x0000;
const PER_LINUX32: libc::c_ulong = 0x0008;

pub fn personality(linux: &Linux) -> Result<()> {
    let Some(p) = linux.personality() else {
        return Ok(());
    };
    let domain = match p.domain() {
        LinuxPersonalityDomain::PerLinux => PER_LINUX,
        LinuxPersonalityDomain::PerLinux32 => PER_LINUX32,
    };
    // SAFETY: personality(2) takes a value and changes only this process's domain.
    if unsafe { libc::personality(domain) } < 0 {
        return Err(format!(
            "personality {}: {}",
            p.domain(),
            nix::Error::last()
        ));
    }
    Ok(())
}

const IOPRIO_WHO_PROCESS: libc::c_long = 1;
const IOPRIO_CLASS_SHIFT: u32 = 13;

/// config.json's check: a priority is 0 to 7 within its class.
pub fn check_io_priority(p: &Process) -> Result<()> {
    match p.io_priority() {
        Some(io) if !(0..=7).contains(&io.priority()) => Err(format!(
            "config.json: process.ioPriority.priority {} is not 0 to 7",
            io.priority()
        )),
        _ => Ok(()),
    }
}

pub fn io_priority(p: &Process) -> Result<()> {
    let Some(io) = p.io_priority() else {
        return Ok(());
    };
    let class: i64 = match io.class() {
        IOPriorityClass::IoprioClassRt => 1,
        IOPriorityClass::IoprioClassBe => 2,
        IOPriorityClass::IoprioClassIdle => 3,
    };
    let value = (class << IOPRIO_CLASS_SHIFT) | io.priority();
    // SAFETY: ioprio_set takes plain integers and changes only this process.
    if unsafe { libc::syscall(libc::SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, value) } < 0 {
        return Err(format!(
            "ioprio_set {} {}: {}",
            io.class(),
            io.priority(),
            nix::Error::last()
        ));
    }
    Ok(())
}
