//! The default seccomp filter: what docker's default profile denies, denied with EPERM.
//!
//! docker's profile is an allow-list; this is the equivalent deny-list of its denials for a
//! container without CAP_SYS_ADMIN, CAP_SYS_MODULE, CAP_SYS_TIME ... (each is denied by
//! the capability checks anyway: the filter is the second wall, and the only one for calls
//! that need no capability: keyctl, bpf, userfaultfd, perf_event_open, unshare of a user
//! namespace, io_uring). The BPF is compiled once, in mdrun before the clone; the init only
//! installs it, as the last step before execve.

use super::SecurityError;
use caps::{Capability, CapsHashSet};
use seccompiler::{
    sock_filter, BpfProgram, SeccompAction, SeccompCmpArgLen as Len, SeccompCmpOp as Op,
    SeccompCondition as Cond, SeccompFilter, SeccompRule, TargetArch,
};
use std::collections::BTreeMap;

/// Denied with EPERM unless the container has the capability beside it (None: always), as in
/// docker's profile, whose `includes.caps` entries allow a call again when the matching
/// capability was added.
const DENIED: &[(&str, libc::c_long, Option<Capability>)] = &[
    ("acct", libc::SYS_acct, Some(Capability::CAP_SYS_PACCT)),
    ("add_key", libc::SYS_add_key, None),
    (
        "adjtimex",
        libc::SYS_adjtimex,
        Some(Capability::CAP_SYS_TIME),
    ),
    ("bpf", libc::SYS_bpf, Some(Capability::CAP_SYS_ADMIN)),
    (
        "clock_adjtime",
        libc::SYS_clock_adjtime,
        Some(Capability::CAP_SYS_TIME),
    ),
    (
        "clock_settime",
        libc::SYS_clock_settime,
        Some(Capability::CAP_SYS_TIME),
    ),
    (
        "delete_module",
        libc::SYS_delete_module,
        Some(Capability::CAP_SYS_MODULE),
    ),
    (
        "finit_module",
        libc::SYS_finit_module,
        Some(Capability::CAP_SYS_MODULE),
    ),
    (
        "fsconfig",
        libc::SYS_fsconfig,
        Some(Capability::CAP_SYS_ADMIN),
    ),
    (
        "fsmount",
        libc::SYS_fsmount,
        Some(Capability::CAP_SYS_ADMIN),
    ),
    ("fsopen", libc::SYS_fsopen, Some(Capability::CAP_SYS_ADMIN)),
    ("fspick", libc::SYS_fspick, Some(Capability::CAP_SYS_ADMIN)),
    (
        "get_mempolicy",
        libc::SYS_get_mempolicy,
        Some(Capability::CAP_SYS_NICE),
    ),
    (
        "init_module",
        libc::SYS_init_module,
        Some(Capability::CAP_SYS_MODULE),
    ),
    ("io_uring_enter", libc::SYS_io_uring_enter, None),
    ("io_uring_register", libc::SYS_io_uring_register, None),
    ("io_uring_setup", libc::SYS_io_uring_setup, None),
    ("kcmp", libc::SYS_kcmp, Some(Capability::CAP_SYS_PTRACE)),
    (
        "kexec_file_load",
        libc::SYS_kexec_file_load,
        Some(Capability::CAP_SYS_BOOT),
    ),
    (
        "kexec_load",
        libc::SYS_kexec_load,
        Some(Capability::CAP_SYS_BOOT),
    ),
    ("keyctl", libc::SYS_keyctl, None),
    (
        "lookup_dcookie",
        libc::SYS_lookup_dcookie,
        Some(Capability::CAP_SYS_ADMIN),
    ),
    ("mbind", libc::SYS_mbind, Some(Capability::CAP_SYS_NICE)),
    ("mount", libc::SYS_mount, Some(Capability::CAP_SYS_ADMIN)),
    (
        "mount_setattr",
        libc::SYS_mount_setattr,
        Some(Capability::CAP_SYS_ADMIN),
    ),
    (
        "move_mount",
        libc::SYS_move_mount,
        Some(Capability::CAP_SYS_ADMIN),
    ),
    (
        "move_pages",
        libc::SYS_move_pages,
        Some(Capability::CAP_SYS_NICE),
    ),
    (
        "name_to_handle_at",
        libc::SYS_name_to_handle_at,
        Some(Capability::CAP_SYS_ADMIN),
    ),
    (
        "open_by_handle_at",
        libc::SYS_open_by_handle_at,
        Some(Capability::CAP_DAC_READ_SEARCH),
    ),
    (
        "open_tree",
        libc::SYS_open_tree,
        Some(Capability::CAP_SYS_ADMIN),
    ),
    (
        "perf_event_open",
        libc::SYS_perf_event_open,
        Some(Capability::CAP_SYS_ADMIN),
    ),
    (
        "pivot_root",
        libc::SYS_pivot_root,
        Some(Capability::CAP_SYS_ADMIN),
    ),
    (
        "quotactl",
        libc::SYS_quotactl,
        Some(Capability::CAP_SYS_ADMIN),
    ),
    ("reboot", libc::SYS_reboot, Some(Capability::CAP_SYS_BOOT)),
    ("request_key", libc::SYS_request_key, None),
    (
        "set_mempolicy",
        libc::SYS_set_mempolicy,
        Some(Capability::CAP_SYS_NICE),
    ),
    ("setns", libc::SYS_setns, Some(Capability::CAP_SYS_ADMIN)),
    (
        "settimeofday",
        libc::SYS_settimeofday,
        Some(Capability::CAP_SYS_TIME),
    ),
    ("swapoff", libc::SYS_swapoff, None),
    ("swapon", libc::SYS_swapon, None),
    ("syslog", libc::SYS_syslog, Some(Capability::CAP_SYSLOG)),
    (
        "umount2",
        libc::SYS_umount2,
        Some(Capability::CAP_SYS_ADMIN),
    ),
    (
        "unshare",
        libc::SYS_unshare,
        Some(Capability::CAP_SYS_ADMIN),
    ),
    (
        "userfaultfd",
        libc::SYS_userfaultfd,
        Some(Capability::CAP_SYS_PTRACE),
    ),
    #[cfg(target_arch = "x86_64")]
    ("_sysctl", libc::SYS__sysctl, None),
    #[cfg(target_arch = "x86_64")]
    ("ioperm", libc::SYS_ioperm, Some(Capability::CAP_SYS_RAWIO)),
    #[cfg(target_arch = "x86_64")]
    ("iopl", libc::SYS_iopl, Some(Capability::CAP_SYS_RAWIO)),
    #[cfg(target_arch = "x86_64")]
    ("nfsservctl", libc::SYS_nfsservctl, None),
    #[cfg(target_arch = "x86_64")]
    ("sysfs", libc::SYS_sysfs, None),
    #[cfg(target_arch = "x86_64")]
    ("uselib", libc::SYS_uselib, None),
    #[cfg(target_arch = "x86_64")]
    ("ustat", libc::SYS_ustat, None),
];

/// clone(2) flags that make a namespace: docker refuses them without CAP_SYS_ADMIN.
const NAMESPACE_FLAGS: &[i32] = &[
    libc::CLONE_NEWNS,
    libc::CLONE_NEWUTS,
    libc::CLONE_NEWIPC,
    libc::CLONE_NEWUSER,
    libc::CLONE_NEWPID,
    libc::CLONE_NEWNET,
    libc::CLONE_NEWCGROUP,
];

/// personality(2) values docker allows (PER_LINUX, UNAME26, PER_LINUX32, ..., query).
const PERSONALITIES: &[u64] = &[0x0, 0x8, 0x20000, 0x20008, 0xffff_ffff];

#[cfg(target_arch = "x86_64")]
const ARCH: TargetArch = TargetArch::x86_64;
#[cfg(target_arch = "aarch64")]
const ARCH: TargetArch = TargetArch::aarch64;
#[cfg(target_arch = "riscv64")]
const ARCH: TargetArch = TargetArch::riscv64;

/// The compiled filters, in the order they are installed.
#[derive(Debug, Clone)]
pub struct Programs(pub Vec<BpfProgram>);

fn rule_err(e: seccompiler::BackendError) -> SecurityError {
    SecurityError::Seccomp {
        step: "compile the filter",
        reason: e.to_string(),
    }
}

fn cond(arg: u8, op: Op, value: u64) -> Result<Cond, SecurityError> {
    Cond::new(arg, Len::Qword, op, value).map_err(rule_err)
}

/// Build the default filters for the host's architecture, for a container that keeps `caps`.
pub fn compile(caps: &CapsHashSet) -> Result<Programs, SecurityError> {
    let eperm = SeccompAction::Errno(libc::EPERM as u32);
    let denied = |unlock: &Option<Capability>| !unlock.is_some_and(|c| caps.contains(&c));
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = DENIED
        .iter()
        .filter(|(_, _, unlock)| denied(unlock))
        .map(|(_, nr, _)| (*nr, vec![]))
        .collect();
    // clone with any namespace flag (one rule per flag: a rule's conditions are ANDed, the
    // rules of a syscall ORed, and seccompiler has no "masked not-equal").
    let clone_rules = NAMESPACE_FLAGS
        .iter()
        .map(|f| {
            SeccompRule::new(vec![cond(0, Op::MaskedEq(*f as u64), *f as u64)?]).map_err(rule_err)
        })
        .collect::<Result<_, _>>()?;
    if denied(&Some(Capability::CAP_SYS_ADMIN)) {
        rules.insert(libc::SYS_clone, clone_rules);
    }
    // personality: anything but the allowed values.
    let persona = PERSONALITIES
        .iter()
        .map(|p| cond(0, Op::Ne, *p))
        .collect::<Result<_, _>>()?;
    rules.insert(
        libc::SYS_personality,
        vec![SeccompRule::new(persona).map_err(rule_err)?],
    );
    let deny = SeccompFilter::new(rules, SeccompAction::Allow, eperm, ARCH).map_err(rule_err)?;
    let deny: BpfProgram = deny.try_into().map_err(rule_err)?;
    // One program, installed with one seccomp(2): the kernel checks and JIT-compiles each
    // filter it is given, and every extra filter also runs on every system call. A prelude
    // answers ENOSYS before the deny list: cBPF jumps are relative and only go forward, so
    // the list needs no change behind it.
    let mut program = prelude();
    program.extend(deny);
    Ok(Programs(vec![program]))
}

/// The calls refused with ENOSYS before anything else, by number:
/// - clone3, which passes its flags in memory, where BPF cannot look: ENOSYS makes glibc
///   fall back to clone, whose flags the deny list does see (docker does the same);
/// - on x86_64, every x32 call: they arrive with the x86_64 audit arch and their number
///   ORed with 0x40000000, so a list keyed on x86_64 numbers does not see them (`keyctl`
///   would pass as 0x400000fa). docker's profile lists x32 explicitly.
fn prelude() -> BpfProgram {
    const LD_W_ABS: u16 = 0x20;
    const JEQ_K: u16 = 0x15;
    const RET_K: u16 = 0x06;
    let f = |code, jt, jf, k| sock_filter { code, jt, jf, k };
    let enosys = libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32;
    let mut p = vec![f(LD_W_ABS, 0, 0, 0)]; // seccomp_data.nr
    #[cfg(target_arch = "x86_64")]
    {
        const JGE_K: u16 = 0x35;
        p.extend([f(JGE_K, 0, 1, 0x4000_0000), f(RET_K, 0, 0, enosys)]);
    }
    p.extend([
        f(JEQ_K, 0, 1, libc::SYS_clone3 as u32),
        f(RET_K, 0, 0, enosys),
    ]);
    p
}

/// Install the filters on the calling thread. Without no_new_privs the kernel demands
/// CAP_SYS_ADMIN, so with `no-new-privileges=false` this must run before the capabilities
/// are dropped (runc's order); otherwise it runs last, right before execve.
pub fn install(programs: &Programs) -> Result<(), SecurityError> {
    for prog in &programs.0 {
        let fprog = libc::sock_fprog {
            len: prog.len() as u16,
            filter: prog.as_ptr() as *mut libc::sock_filter,
        };
        // SAFETY: seccomp(SECCOMP_SET_MODE_FILTER) reads `len` instructions from `filter`,
        // which points into `prog`, alive for the call; seccompiler's sock_filter has the
        // kernel's layout (u16, u8, u8, u32).
        let rc = unsafe {
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                0,
                &fprog as *const libc::sock_fprog,
            )
        };
        if rc != 0 {
            return Err(SecurityError::Seccomp {
                step: "install the filter",
                reason: std::io::Error::last_os_error().to_string(),
            });
        }
    }
    Ok(())
}

/// The names of the denied calls (for documentation and tests).
pub fn denied_names() -> impl Iterator<Item = &'static str> {
    DENIED.iter().map(|(n, _, _)| *n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_filter_is_one_program_behind_the_enosys_prelude() {
        let p = compile(&crate::security::caps::DEFAULT.iter().copied().collect()).unwrap();
        assert_eq!(p.0.len(), 1, "one seccomp(2) per container");
        let prog = &p.0[0];
        assert!(prog.len() < u16::MAX as usize);
        let pre = prelude();
        assert_eq!(&prog[..pre.len()], &pre[..]);
    }

    #[test]
    fn installed_filter_denies_and_allows() {
        let programs = compile(&crate::security::caps::DEFAULT.iter().copied().collect()).unwrap();
        // A child process, so the test runner is not filtered.
        // SAFETY: the child only makes raw syscalls and _exits.
        match unsafe { libc::fork() } {
            0 => {
                // SAFETY: prctl with constant arguments on ourselves.
                unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) };
                let code = if install(&programs).is_err() {
                    10
                } else {
                    // SAFETY: raw syscalls with harmless arguments; each is refused or harmless.
                    let keyctl = unsafe { libc::syscall(libc::SYS_keyctl, 0, 0, 0, 0, 0) } == -1
                        && std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
                    // SAFETY: as above; CLONE_NEWUSER would be allowed to root without the filter.
                    let unshare = unsafe { libc::unshare(libc::CLONE_NEWUSER) } == -1
                        && std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
                    // SAFETY: getpid cannot fail.
                    let getpid = unsafe { libc::syscall(libc::SYS_getpid) } > 0;
                    // SAFETY: personality query (0xffffffff) is allowed.
                    let persona = unsafe { libc::personality(0xffff_ffff) } != -1;
                    // SAFETY: clone3 with no arguments: EINVAL unfiltered, ENOSYS here.
                    let clone3 = unsafe { libc::syscall(libc::SYS_clone3, 0usize, 0usize) } == -1
                        && std::io::Error::last_os_error().raw_os_error() == Some(libc::ENOSYS);
                    match (keyctl, unshare, getpid, persona, clone3) {
                        (true, true, true, true, true) => 0,
                        _ => 11,
                    }
                };
                // SAFETY: _exit is always safe.
                unsafe { libc::_exit(code) }
            }
            pid => {
                let mut status = 0;
                // SAFETY: waiting for our own child.
                unsafe { libc::waitpid(pid, &mut status, 0) };
                assert!(libc::WIFEXITED(status), "child died: {status:#x}");
                assert_eq!(libc::WEXITSTATUS(status), 0);
            }
        }
    }
}
