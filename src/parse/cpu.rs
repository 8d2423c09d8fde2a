//! `--cpus` (CFS bandwidth) and `--cpuset-cpus` (which CPUs), checked against the host.

use std::collections::BTreeSet;

use super::ParseError;

/// The CFS period `--cpus` uses, as docker does: quota = cpus * 100ms per 100ms.
pub const CPU_PERIOD_US: u64 = 100_000;
/// The kernel refuses a cfs_quota_us below 1ms (EINVAL), so `--cpus` must be >= 0.01.
const MIN_QUOTA_US: i64 = 1_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CpuProblem {
    #[error("not a number")]
    NotANumber,
    #[error("must be greater than 0")]
    NotPositive,
    #[error("must be at least 0.01 (the kernel's smallest quota is 1ms per 100ms)")]
    BelowMinimum,
    #[error("empty")]
    Empty,
    #[error("{} is not a CPU number or a range like 0-3", crate::quote::quoted(.0))]
    Malformed(String),
    #[error("range {0}-{1} is reversed")]
    Reversed(usize, usize),
    #[error("CPU {cpu} does not exist (the host has {})", host_cpu_list(*host))]
    NoSuchCpu { cpu: usize, host: usize },
}

fn host_cpu_list(host: usize) -> String {
    match host {
        0 | 1 => "only CPU 0".to_string(),
        n => format!("CPUs 0-{}", n - 1),
    }
}

/// CPUs online on the host (sysconf(_SC_NPROCESSORS_ONLN)), at least 1.
/// Not `available_parallelism`: that one shrinks with mdrun's own affinity and cgroup quota,
/// while limits are checked against the machine.
pub fn host_cpus() -> usize {
    // SAFETY: sysconf only reads a system value; no pointers are involved.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    usize::try_from(n).ok().filter(|n| *n > 0).unwrap_or(1)
}

/// `--cpus 0.5` -> (quota_us, period_us) with period 100000; must be > 0 and <= host_cpus.
pub fn cpus(s: &str, host_cpus: usize) -> Result<(i64, u64), ParseError> {
    let problem = |problem| ParseError::Cpus {
        input: s.to_string(),
        problem,
    };
    // Rust's f64 parser also takes "inf" and "NaN": both are refused below.
    let value: f64 = s.parse().map_err(|_| problem(CpuProblem::NotANumber))?;
    if value.is_nan() {
        return Err(problem(CpuProblem::NotANumber));
    }
    if value <= 0.0 {
        return Err(problem(CpuProblem::NotPositive));
    }
    if value > host_cpus as f64 {
        return Err(ParseError::CpusOverHost {
            input: s.to_string(),
            host: host_cpus,
        });
    }
    let quota = (value * CPU_PERIOD_US as f64).round() as i64;
    if quota < MIN_QUOTA_US {
        return Err(problem(CpuProblem::BelowMinimum));
    }
    Ok((quota, CPU_PERIOD_US))
}

/// `--cpuset-cpus 0-1,3`: every cpu must be < host_cpus; returns the list normalised
/// (sorted, duplicates dropped, runs written as ranges: `1,0,2` -> `0-2`).
pub fn cpuset(s: &str, host_cpus: usize) -> Result<String, ParseError> {
    parse_cpuset(s, host_cpus).map_err(|problem| ParseError::Cpuset {
        input: s.to_string(),
        problem,
    })
}

fn parse_cpuset(s: &str, host: usize) -> Result<String, CpuProblem> {
    if s.is_empty() {
        return Err(CpuProblem::Empty);
    }
    let mut set = BTreeSet::new();
    for part in s.split(',') {
        let (first, last) = match part.split_once('-') {
            Some((a, b)) => (cpu_number(a, part)?, cpu_number(b, part)?),
            None => (cpu_number(part, part)?, cpu_number(part, part)?),
        };
        if first > last {
            return Err(CpuProblem::Reversed(first, last));
        }
        // Checked before expanding, so `0-4000000000` cannot allocate a huge set.
        if last >= host {
            return Err(CpuProblem::NoSuchCpu { cpu: last, host });
        }
        set.extend(first..=last);
    }
    Ok(render_ranges(&set))
}

fn cpu_number(digits: &str, part: &str) -> Result<usize, CpuProblem> {
    // usize::from_str would take "+1"; the kernel's list syntax is plain digits.
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CpuProblem::Malformed(part.to_string()));
    }
    digits
        .parse()
        .map_err(|_| CpuProblem::Malformed(part.to_string()))
}

fn render_ranges(set: &BTreeSet<usize>) -> String {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for &cpu in set {
        match runs.last_mut() {
            Some((_, end)) if *end + 1 == cpu => *end = cpu,
            _ => runs.push((cpu, cpu)),
        }
    }
    let parts: Vec<String> = runs
        .iter()
        .map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect();
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cpus_problem(s: &str) -> CpuProblem {
        match cpus(s, 2) {
            Err(ParseError::Cpus { input, problem }) if input == s => problem,
            other => panic!("{s:?}: expected a cpus error, got {other:?}"),
        }
    }

    fn cpuset_problem(s: &str) -> CpuProblem {
        match cpuset(s, 2) {
            Err(ParseError::Cpuset { input, problem }) if input == s => problem,
            other => panic!("{s:?}: expected a cpuset error, got {other:?}"),
        }
    }

    #[test]
    fn cpus_become_quota_per_100ms() {
        assert_eq!(cpus("0.5", 2).unwrap(), (50_000, 100_000));
        assert_eq!(cpus("2", 2).unwrap(), (200_000, 100_000));
        assert_eq!(cpus("1.25", 2).unwrap(), (125_000, 100_000));
        assert_eq!(cpus("0.01", 2).unwrap(), (1_000, 100_000));
    }

    #[test]
    fn bad_cpus_are_refused() {
        assert_eq!(cpus_problem("0"), CpuProblem::NotPositive);
        assert_eq!(cpus_problem("-1"), CpuProblem::NotPositive);
        assert_eq!(cpus_problem("NaN"), CpuProblem::NotANumber);
        assert_eq!(cpus_problem("abc"), CpuProblem::NotANumber);
        assert_eq!(cpus_problem(""), CpuProblem::NotANumber);
        assert_eq!(cpus_problem("0.001"), CpuProblem::BelowMinimum);
    }

    #[test]
    fn more_cpus_than_the_host_has_is_refused() {
        let err = cpus("4", 2).unwrap_err();
        assert_eq!(err.to_string(), "--cpus 4: the host has only 2 CPUs");
        assert_eq!(
            cpus("2", 1).unwrap_err().to_string(),
            "--cpus 2: the host has only 1 CPU"
        );
        assert!(matches!(
            cpus("inf", 2),
            Err(ParseError::CpusOverHost { .. })
        ));
    }

    #[test]
    fn cpuset_is_normalised() {
        assert_eq!(cpuset("0", 2).unwrap(), "0");
        assert_eq!(cpuset("0-1", 2).unwrap(), "0-1");
        assert_eq!(cpuset("0,1", 2).unwrap(), "0-1");
        assert_eq!(cpuset("1,0,1", 2).unwrap(), "0-1");
        assert_eq!(cpuset("0,2,3,5-6", 8).unwrap(), "0,2-3,5-6");
    }

    #[test]
    fn bad_cpusets_are_refused() {
        assert_eq!(cpuset_problem(""), CpuProblem::Empty);
        assert_eq!(
            cpuset_problem("2"),
            CpuProblem::NoSuchCpu { cpu: 2, host: 2 }
        );
        assert_eq!(
            cpuset_problem("0-4000000000"),
            CpuProblem::NoSuchCpu {
                cpu: 4000000000,
                host: 2
            }
        );
        assert_eq!(cpuset_problem("1-0"), CpuProblem::Reversed(1, 0));
        assert_eq!(cpuset_problem("a"), CpuProblem::Malformed("a".into()));
        assert_eq!(cpuset_problem("0,,1"), CpuProblem::Malformed("".into()));
        assert_eq!(cpuset_problem("0,"), CpuProblem::Malformed("".into()));
        assert_eq!(cpuset_problem("-1"), CpuProblem::Malformed("-1".into()));
        assert_eq!(cpuset_problem("0-"), CpuProblem::Malformed("0-".into()));
        assert_eq!(
            cpuset_problem("0-1-2"),
            CpuProblem::Malformed("0-1-2".into())
        );
        assert_eq!(cpuset_problem("+1"), CpuProblem::Malformed("+1".into()));
        assert_eq!(cpuset_problem(" 0"), CpuProblem::Malformed(" 0".into()));
        assert_eq!(
            cpuset("3", 2).unwrap_err().to_string(),
            r#"invalid --cpuset-cpus "3": CPU 3 does not exist (the host has CPUs 0-1)"#
        );
    }

    #[test]
    fn host_cpus_matches_the_kernel() {
        let online = std::fs::read_to_string("/sys/devices/system/cpu/online").unwrap();
        let set = cpuset(online.trim(), 4096).unwrap();
        let count: usize = set
            .split(',')
            .map(|r| match r.split_once('-') {
                Some((a, b)) => b.parse::<usize>().unwrap() - a.parse::<usize>().unwrap() + 1,
                None => 1,
            })
            .sum();
        assert_eq!(host_cpus(), count);
    }
}
