//! `spec::Limits` into control files, through cgroups-rs's controllers.
//!
//! The controllers' own `apply(&Resources)` is not used: it drops the errors of most writes
//! (its `update!` macro), and a limit the kernel refuses must fail `run`.

use super::dirs::write_err;
use super::CgroupError;
use crate::spec::Limits;
use cgroups_rs::fs::cpu::CpuController;
use cgroups_rs::fs::cpuset::CpuSetController;
use cgroups_rs::fs::memory::MemController;
use cgroups_rs::fs::pid::PidController;
use cgroups_rs::fs::MaxValue;
use std::path::{Path, PathBuf};

/// Refuse what docker refuses, before anything is created.
pub fn validate(l: &Limits) -> Result<(), CgroupError> {
    let bad = |reason| Err(CgroupError::InvalidLimits { reason });
    if l.memory.is_some_and(|m| m > i64::MAX as u64) {
        return bad("memory limit too large");
    }
    match (l.memory, l.memory_swap) {
        (None, Some(s)) if s > 0 => bad("a memory+swap limit needs a memory limit too"),
        (Some(m), Some(s)) if s != -1 && (s < 0 || (s as u64) < m) => {
            bad("the memory+swap limit must be -1 (unlimited) or at least the memory limit")
        }
        _ => Ok(()),
    }
}

/// v1 memory.memsw.limit_in_bytes. Without `memory_swap`, docker's default: as much swap as
/// memory, so memory+swap = 2 x memory (docker daemon `adaptContainerSettings`). -1 is
/// unlimited.
pub(crate) fn v1_memsw(l: &Limits) -> Option<i64> {
    let m = l.memory? as i64;
    Some(match l.memory_swap {
        None => m.checked_mul(2).unwrap_or(-1),
        Some(s) => s,
    })
}

/// v2 memory.swap.max counts swap alone: memory+swap minus memory, the same default as
/// v1 (swap = memory), `Max` for -1.
pub(crate) fn v2_swap_max(l: &Limits) -> Option<MaxValue> {
    let m = l.memory? as i64;
    Some(match l.memory_swap {
        None => MaxValue::Value(m),
        Some(-1) => MaxValue::Max,
        Some(s) => MaxValue::Value(s.saturating_sub(m).max(0)),
    })
}

/// v1 cpu.shares (2..=262144) to v2 cpu.weight (1..=10000), the linear mapping of runc and
/// crun before 1.11: `1 + ((shares - 2) * 9999) / 262142`, so 2 -> 1 and 262144 -> 10000.
pub(crate) fn shares_to_weight(shares: u64) -> u64 {
    let s = shares.clamp(2, 262_144);
    1 + ((s - 2) * 9999) / 262_142
}

/// pids.max: docker treats 0 and -1 as "no limit".
pub(crate) fn pids_max(limit: i64) -> MaxValue {
    if limit <= 0 {
        MaxValue::Max
    } else {
        MaxValue::Value(limit)
    }
}

/// v2 controllers the limits cannot do without.
pub(crate) fn v2_required(l: &Limits) -> Vec<&'static str> {
    let mut c = Vec::new();
    if l.memory.is_some() {
        c.push("memory");
    }
    if l.cpu_quota.is_some() || l.cpu_period.is_some() || l.cpu_shares.is_some() {
        c.push("cpu");
    }
    if l.cpuset_cpus.is_some() {
        c.push("cpuset");
    }
    if l.pids_limit.is_some() {
        c.push("pids");
    }
    c
}

/// The v1 directory of each controller the limits touch (None: not mounted).
pub(crate) struct V1Dirs<'a> {
    pub memory: Option<&'a Path>,
    pub cpu: Option<&'a Path>,
    pub cpuset: Option<&'a Path>,
    pub pids: Option<&'a Path>,
}

fn need<'a>(dir: Option<&'a Path>, controller: &'static str) -> Result<&'a Path, CgroupError> {
    dir.ok_or(CgroupError::NoHierarchy { controller })
}

/// Check that every controller the limits use is mounted, before anything is created.
pub(crate) fn v1_check(d: &V1Dirs, l: &Limits) -> Result<(), CgroupError> {
    for c in v2_required(l) {
        let dir = match c {
            "memory" => d.memory,
            "cpu" => d.cpu,
            "cpuset" => d.cpuset,
            _ => d.pids,
        };
        need(dir, c)?;
    }
    Ok(())
}

pub(crate) fn apply_v1(d: &V1Dirs, l: &Limits) -> Result<(), CgroupError> {
    if let Some(m) = l.memory {
        let dir = need(d.memory, "memory")?;
        let mem = MemController::new(dir.to_path_buf(), dir.to_path_buf(), false);
        // Memory before memory+swap: memsw may never be below the memory limit.
        mem.set_limit(m as i64)
            .map_err(write_err(dir, "memory.limit_in_bytes", m))?;
        // Without swap accounting (swapaccount=0) there is no memsw file; docker then warns
        // and runs without a swap limit, and so do we.
        let memsw = "memory.memsw.limit_in_bytes";
        if let Some(sw) = v1_memsw(l).filter(|_| dir.join(memsw).exists()) {
            mem.set_memswap_limit(sw)
                .map_err(write_err(dir, memsw, sw))?;
        }
    }
    if l.cpu_quota.is_some() || l.cpu_period.is_some() || l.cpu_shares.is_some() {
        let dir = need(d.cpu, "cpu")?;
        let cpu = CpuController::new(dir.to_path_buf(), dir.to_path_buf(), false);
        if let Some(p) = l.cpu_period {
            cpu.set_cfs_period(p)
                .map_err(write_err(dir, "cpu.cfs_period_us", p))?;
        }
        if let Some(q) = l.cpu_quota {
            cpu.set_cfs_quota(q)
                .map_err(write_err(dir, "cpu.cfs_quota_us", q))?;
        }
        if let Some(s) = l.cpu_shares {
            cpu.set_shares(s).map_err(write_err(dir, "cpu.shares", s))?;
        }
    }
    if let Some(cpus) = &l.cpuset_cpus {
        let dir = need(d.cpuset, "cpuset")?;
        let cs = CpuSetController::new(dir.to_path_buf(), dir.to_path_buf(), false);
        cs.set_cpus(cpus)
            .map_err(write_err(dir, "cpuset.cpus", cpus))?;
    }
    if let Some(n) = l.pids_limit {
        let dir = need(d.pids, "pids")?;
        let pids = PidController::new(dir.to_path_buf(), dir.to_path_buf(), false);
        pids.set_pid_max(pids_max(n))
            .map_err(write_err(dir, "pids.max", pids_max(n)))?;
    }
    Ok(())
}

pub(crate) fn apply_v2(dir: &Path, l: &Limits) -> Result<(), CgroupError> {
    let p: PathBuf = dir.to_path_buf();
    if let Some(m) = l.memory {
        let mem = MemController::new(p.clone(), p.clone(), true);
        mem.set_limit(m as i64)
            .map_err(write_err(dir, "memory.max", m))?;
        // memory.swap.max is missing without swap accounting: run without, as docker does.
        if let Some(sw) = v2_swap_max(l).filter(|_| dir.join("memory.swap.max").exists()) {
            let raw = match sw {
                MaxValue::Max => -1,
                MaxValue::Value(v) => v,
            };
            mem.set_memswap_limit(raw)
                .map_err(write_err(dir, "memory.swap.max", sw))?;
        }
    }
    let cpu = CpuController::new(p.clone(), p.clone(), true);
    if l.cpu_quota.is_some() || l.cpu_period.is_some() {
        // What cgroups-rs writes: "$MAX $PERIOD", each part kept from cpu.max if not given.
        let quota = l
            .cpu_quota
            .map(|q| if q > 0 { q.to_string() } else { "max".into() });
        let line = format!(
            "{} {}",
            quota.unwrap_or_else(|| "(unchanged)".into()),
            l.cpu_period
                .map_or_else(|| "(unchanged)".into(), |p| p.to_string())
        );
        cpu.set_cfs_quota_and_period(l.cpu_quota, l.cpu_period)
            .map_err(write_err(dir, "cpu.max", line))?;
    }
    if let Some(s) = l.cpu_shares {
        let w = shares_to_weight(s);
        cpu.set_shares(w).map_err(write_err(dir, "cpu.weight", w))?;
    }
    if let Some(cpus) = &l.cpuset_cpus {
        let cs = CpuSetController::new(p.clone(), p.clone(), true);
        cs.set_cpus(cpus)
            .map_err(write_err(dir, "cpuset.cpus", cpus))?;
    }
    if let Some(n) = l.pids_limit {
        let pids = PidController::new(p.clone(), p, true);
        pids.set_pid_max(pids_max(n))
            .map_err(write_err(dir, "pids.max", pids_max(n)))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn mem(memory: Option<u64>, memory_swap: Option<i64>) -> Limits {
        Limits {
            memory,
            memory_swap,
            ..Limits::default()
        }
    }

    #[test]
    fn shares_map_to_weight_like_runc() {
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(1024), 39);
        assert_eq!(shares_to_weight(262_144), 10_000);
        // Out-of-range shares are clamped first, as the kernel does on v1.
        assert_eq!(shares_to_weight(0), 1);
        assert_eq!(shares_to_weight(1 << 40), 10_000);
    }

    #[test]
    fn swap_defaults_to_as_much_as_memory() {
        let m = 100 << 20;
        assert_eq!(v1_memsw(&mem(Some(m), None)), Some(2 * m as i64));
        assert_eq!(
            v2_swap_max(&mem(Some(m), None)),
            Some(MaxValue::Value(m as i64))
        );
    }

    #[test]
    fn explicit_swap_is_total_on_v1_and_the_difference_on_v2() {
        let l = mem(Some(100), Some(300));
        assert_eq!(v1_memsw(&l), Some(300));
        assert_eq!(v2_swap_max(&l), Some(MaxValue::Value(200)));
        let equal = mem(Some(100), Some(100));
        assert_eq!(
            v2_swap_max(&equal),
            Some(MaxValue::Value(0)),
            "no swap at all"
        );
        let unlimited = mem(Some(100), Some(-1));
        assert_eq!(v1_memsw(&unlimited), Some(-1));
        assert_eq!(v2_swap_max(&unlimited), Some(MaxValue::Max));
        assert_eq!(v1_memsw(&mem(None, Some(-1))), None);
    }

    #[test]
    fn swap_below_memory_or_without_memory_is_refused() {
        assert!(validate(&mem(Some(100), Some(50))).is_err());
        assert!(validate(&mem(Some(100), Some(-2))).is_err());
        assert!(validate(&mem(None, Some(50))).is_err());
        assert!(validate(&mem(None, Some(-1))).is_ok());
        assert!(validate(&mem(Some(100), Some(100))).is_ok());
        assert!(validate(&mem(Some(u64::MAX), None)).is_err());
    }

    #[test]
    fn pids_zero_or_negative_means_no_limit() {
        assert_eq!(pids_max(-1), MaxValue::Max);
        assert_eq!(pids_max(0), MaxValue::Max);
        assert_eq!(pids_max(20), MaxValue::Value(20));
    }

    #[test]
    fn v2_limits_land_in_the_v2_files() {
        // A fake v2 cgroup directory: cgroups-rs writes plain files, and reads cpu.max first.
        let dir = std::env::temp_dir().join(format!("mdrun-v2-apply-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("cpu.max"), "max 100000\n").unwrap();
        fs::write(dir.join("memory.swap.max"), "max\n").unwrap();
        let l = Limits {
            memory: Some(100 << 20),
            memory_swap: Some(300 << 20),
            cpu_quota: Some(50_000),
            cpu_period: Some(100_000),
            cpu_shares: Some(1024),
            cpuset_cpus: Some("0".into()),
            pids_limit: Some(20),
            ..Default::default()
        };
        apply_v2(&dir, &l).unwrap();
        let read = |f: &str| fs::read_to_string(dir.join(f)).unwrap();
        assert_eq!(read("memory.max"), "104857600");
        assert_eq!(read("memory.swap.max"), "209715200");
        assert_eq!(read("cpu.max"), "50000 100000");
        assert_eq!(read("cpu.weight"), "39");
        assert_eq!(read("cpuset.cpus"), "0");
        assert_eq!(read("pids.max"), "20");
        assert_eq!(v2_required(&l), ["memory", "cpu", "cpuset", "pids"]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn v2_unlimited_values_are_written_as_max() {
        let dir = std::env::temp_dir().join(format!("mdrun-v2-max-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("cpu.max"), "20000 100000\n").unwrap();
        fs::write(dir.join("memory.swap.max"), "0\n").unwrap();
        let l = Limits {
            memory: Some(1 << 30),
            memory_swap: Some(-1),
            cpu_quota: Some(-1),
            pids_limit: Some(-1),
            ..Limits::default()
        };
        apply_v2(&dir, &l).unwrap();
        let read = |f: &str| fs::read_to_string(dir.join(f)).unwrap();
        assert_eq!(read("memory.swap.max"), "max");
        assert_eq!(read("cpu.max"), "max 100000");
        assert_eq!(read("pids.max"), "max");
        fs::remove_dir_all(&dir).unwrap();
    }
}
