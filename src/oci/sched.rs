//! What runtime-spec asks of the process's kernel attributes beyond its confinement:
//! `linux.personality` (the execution domain: LINUX32 makes `uname -m` say i686 on x86_64)
//! in the init, and `process.ioPriority` (ioprio_set) and `process.scheduler`
//! (sched_setattr) for the init's process and an `exec`'d one, as runc sets them.

use super::Result;
use oci_spec::runtime::{
    IOPriorityClass, Linux, LinuxPersonalityDomain, LinuxSchedulerFlag, LinuxSchedulerPolicy,
    Process,
};

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

/// `struct sched_attr` of sched_setattr(2), its first version (48 bytes).
#[repr(C)]
struct SchedAttr {
    size: u32,
    policy: u32,
    flags: u64,
    nice: i32,
    priority: u32,
    runtime: u64,
    deadline: u64,
    period: u64,
}

fn policy_of(p: LinuxSchedulerPolicy) -> Result<u32> {
    Ok(match p {
        LinuxSchedulerPolicy::SchedOther => 0,
        LinuxSchedulerPolicy::SchedFifo => 1,
        LinuxSchedulerPolicy::SchedRr => 2,
        LinuxSchedulerPolicy::SchedBatch => 3,
        LinuxSchedulerPolicy::SchedIdle => 5,
        LinuxSchedulerPolicy::SchedDeadline => 6,
        LinuxSchedulerPolicy::SchedIso => {
            return Err("config.json: process.scheduler: SCHED_ISO is not in Linux".into())
        }
    })
}

fn flag_of(f: LinuxSchedulerFlag) -> u64 {
    match f {
        LinuxSchedulerFlag::SchedResetOnFork => 0x01,
        LinuxSchedulerFlag::SchedFlagReclaim => 0x02,
        LinuxSchedulerFlag::SchedFlagDLOverrun => 0x04,
        LinuxSchedulerFlag::SchedFlagKeepPolicy => 0x08,
        LinuxSchedulerFlag::SchedFlagKeepParams => 0x10,
        LinuxSchedulerFlag::SchedFlagUtilClampMin => 0x20,
        LinuxSchedulerFlag::SchedFlagUtilClampMax => 0x40,
    }
}

/// config.json's check: a policy Linux has, a nice value in -20..19.
pub fn check_scheduler(p: &Process) -> Result<()> {
    let Some(s) = p.scheduler() else {
        return Ok(());
    };
    policy_of(*s.policy())?;
    match s.nice() {
        Some(n) if !(-20..=19).contains(n) => Err(format!(
            "config.json: process.scheduler.nice {n} is not -20 to 19"
        )),
        _ => Ok(()),
    }
}

pub fn scheduler(p: &Process) -> Result<()> {
    let Some(s) = p.scheduler() else {
        return Ok(());
    };
    let attr = SchedAttr {
        size: std::mem::size_of::<SchedAttr>() as u32,
        policy: policy_of(*s.policy())?,
        flags: s
            .flags()
            .iter()
            .flatten()
            .map(|f| flag_of(*f))
            .fold(0, |a, b| a | b),
        nice: s.nice().unwrap_or(0),
        priority: s.priority().unwrap_or(0).max(0) as u32,
        runtime: s.runtime().unwrap_or(0),
        deadline: s.deadline().unwrap_or(0),
        period: s.period().unwrap_or(0),
    };
    // SAFETY: sched_setattr reads `attr` (its size in its first field) for this thread.
    if unsafe { libc::syscall(libc::SYS_sched_setattr, 0, &attr as *const SchedAttr, 0) } < 0 {
        return Err(format!(
            "sched_setattr {} (nice {}, priority {}): {}",
            s.policy(),
            attr.nice,
            attr.priority,
            nix::Error::last()
        ));
    }
    Ok(())
}
