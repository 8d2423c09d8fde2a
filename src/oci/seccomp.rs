//! linux.seccomp in the runtime-spec's format, compiled with seccompiler (as mdrun's default
//! profile is). seccompiler gives one action to every rule of a filter, so the profile
//! becomes a stack: one filter that answers `defaultAction` to every call the profile does
//! not match, and one filter per other action for the calls that take it. The kernel
//! returns the strictest answer of the stack, which is the profile's answer.

use super::Result;
use oci_spec::runtime::{LinuxSeccomp, LinuxSeccompAction, LinuxSeccompOperator};
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};
use std::collections::BTreeMap;
use std::str::FromStr;

#[cfg(target_arch = "x86_64")]
const ARCH: TargetArch = TargetArch::x86_64;
#[cfg(target_arch = "aarch64")]
const ARCH: TargetArch = TargetArch::aarch64;

pub struct Compiled {
    pub programs: Vec<BpfProgram>,
    pub flags: u32,
}

fn action(
    a: LinuxSeccompAction,
    errno: Option<u32>,
    default_errno: Option<u32>,
) -> Result<SeccompAction> {
    let eno = errno.or(default_errno).unwrap_or(libc::EPERM as u32);
    Ok(match a {
        LinuxSeccompAction::ScmpActAllow => SeccompAction::Allow,
        LinuxSeccompAction::ScmpActErrno => SeccompAction::Errno(eno),
        LinuxSeccompAction::ScmpActKill | LinuxSeccompAction::ScmpActKillThread => {
            SeccompAction::KillThread
        }
        LinuxSeccompAction::ScmpActKillProcess => SeccompAction::KillProcess,
        LinuxSeccompAction::ScmpActTrap => SeccompAction::Trap,
        LinuxSeccompAction::ScmpActTrace => SeccompAction::Trace(eno),
        LinuxSeccompAction::ScmpActLog => SeccompAction::Log,
        other => return Err(format!("seccomp: action {other:?} is not supported")),
    })
}

fn rule(args: &[oci_spec::runtime::LinuxSeccompArg]) -> Result<SeccompRule> {
    let conds = args
        .iter()
        .map(|a| {
            let op = match a.op() {
                LinuxSeccompOperator::ScmpCmpNe => SeccompCmpOp::Ne,
                LinuxSeccompOperator::ScmpCmpLt => SeccompCmpOp::Lt,
                LinuxSeccompOperator::ScmpCmpLe => SeccompCmpOp::Le,
                LinuxSeccompOperator::ScmpCmpEq => SeccompCmpOp::Eq,
                LinuxSeccompOperator::ScmpCmpGe => SeccompCmpOp::Ge,
                LinuxSeccompOperator::ScmpCmpGt => SeccompCmpOp::Gt,
                LinuxSeccompOperator::ScmpCmpMaskedEq => SeccompCmpOp::MaskedEq(a.value()),
            };
            let value = if matches!(a.op(), LinuxSeccompOperator::ScmpCmpMaskedEq) {
                a.value_two().unwrap_or(0)
            } else {
                a.value()
            };
            SeccompCondition::new(a.index() as u8, SeccompCmpArgLen::Qword, op, value)
                .map_err(|e| format!("seccomp: argument condition: {e}"))
        })
        .collect::<Result<Vec<_>>>()?;
    SeccompRule::new(conds).map_err(|e| format!("seccomp: rule: {e}"))
}

/// The syscall's number on this architecture; None for a name this kernel does not have
/// (ignored, as libseccomp-based runtimes do).
fn number(name: &str) -> Option<i64> {
    syscalls::Sysno::from_str(name).ok().map(|s| s.id() as i64)
}

/// `None`: an unconditional match (an empty list of rules in seccompiler).
fn push(map: &mut BTreeMap<i64, Vec<SeccompRule>>, nr: i64, r: Option<SeccompRule>) {
    match r {
        None => {
            map.insert(nr, Vec::new());
        }
        Some(r) => map.entry(nr).or_default().push(r),
    }
}

/// An action, its calls with their rules, and the calls it takes unconditionally.
type Group = (SeccompAction, BTreeMap<i64, Vec<SeccompRule>>, Vec<i64>);

pub fn compile(sc: &LinuxSeccomp) -> Result<Compiled> {
    let default_errno = sc.default_errno_ret();
    let default = action(sc.default_action(), None, default_errno)?;
    // Per action: the calls (and conditions) that take it.
    let mut groups: Vec<Group> = Vec::new();
    // Every call the profile names, with its conditions: the default filter lets them by.
    let mut named: BTreeMap<i64, Option<Vec<SeccompRule>>> = BTreeMap::new();
    for s in sc.syscalls().iter().flatten() {
        let act = action(s.action(), s.errno_ret(), default_errno)?;
        let r = match s.args() {
            Some(args) if !args.is_empty() => Some(rule(args)?),
            _ => None,
        };
        for name in s.names() {
            let Some(nr) = number(name) else { continue };
            let slot = named.entry(nr).or_insert_with(|| Some(Vec::new()));
            match (&r, slot.as_mut()) {
                (None, _) => *slot = None,
                (Some(r), Some(list)) => list.push(r.clone()),
                (Some(_), None) => {}
            }
            if act == default {
                continue;
            }
            let i = match groups.iter().position(|(a, _, _)| *a == act) {
                Some(i) => i,
                None => {
                    groups.push((act.clone(), BTreeMap::new(), Vec::new()));
                    groups.len() - 1
                }
            };
            let (_, map, unconditional) = &mut groups[i];
            if unconditional.contains(&nr) {
                continue;
            }
            match &r {
                None => {
                    unconditional.push(nr);
                    push(map, nr, None);
                }
                Some(r) => push(map, nr, Some(r.clone())),
            }
        }
    }
    let mut programs = Vec::new();
    let build = |rules: BTreeMap<i64, Vec<SeccompRule>>, mismatch, matched| -> Result<BpfProgram> {
        let f = SeccompFilter::new(rules, mismatch, matched, ARCH)
            .map_err(|e| format!("seccomp: filter: {e}"))?;
        f.try_into()
            .map_err(|e: seccompiler::BackendError| format!("seccomp: compile: {e}"))
    };
    if default != SeccompAction::Allow {
        let rules = named
            .into_iter()
            .map(|(nr, r)| (nr, r.unwrap_or_default()))
            .collect();
        programs.push(build(rules, default.clone(), SeccompAction::Allow)?);
    }
    for (act, map, _) in groups {
        if act == SeccompAction::Allow {
            continue;
        }
        programs.push(build(map, SeccompAction::Allow, act)?);
    }
    let mut flags = 0u32;
    for f in sc.flags().iter().flatten() {
        use oci_spec::runtime::LinuxSeccompFilterFlag as F;
        flags |= match f {
            F::SeccompFilterFlagLog => libc::SECCOMP_FILTER_FLAG_LOG as u32,
            F::SeccompFilterFlagSpecAllow => libc::SECCOMP_FILTER_FLAG_SPEC_ALLOW as u32,
            F::SeccompFilterFlagTsync => libc::SECCOMP_FILTER_FLAG_TSYNC as u32,
            #[allow(unreachable_patterns)]
            _ => 0,
        };
    }
    Ok(Compiled { programs, flags })
}

/// Install the filters on this thread (last step before execve, or first without
/// no_new_privs: see `process`).
pub fn install(c: &Compiled) -> Result<()> {
    for prog in &c.programs {
        let fprog = libc::sock_fprog {
            len: prog.len() as u16,
            filter: prog.as_ptr() as *mut libc::sock_filter,
        };
        // SAFETY: seccomp(SECCOMP_SET_MODE_FILTER) reads `len` instructions from `filter`,
        // which points into `prog`, alive for the call.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                c.flags,
                &fprog as *const libc::sock_fprog,
            )
        };
        if rc != 0 {
            return Err(format!(
                "seccomp: install the filter: {}",
                std::io::Error::last_os_error()
            ));
        }
    }
    Ok(())
}
