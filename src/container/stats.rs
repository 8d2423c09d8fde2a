//! What a running container uses (`mdrun stats`): its cgroup's counters
//! (`cgroups::usage`) and its network namespace's, read from the init's
//! `/proc/<pid>/net/dev`. Rates (CPU %) come from two samples.

use crate::cgroups::usage::{self, Usage};
use crate::state::Record;
use std::time::Instant;

/// One reading of a container's counters.
#[derive(Debug, Clone)]
pub struct Sample {
    pub usage: Usage,
    /// Bytes received and sent on its interfaces other than `lo`.
    pub net_rx: u64,
    pub net_tx: u64,
    pub at: Instant,
}

/// Read the counters of a running container now.
pub fn sample(record: &Record) -> Sample {
    let (net_rx, net_tx) = record.pid.map_or((0, 0), net_dev);
    Sample {
        usage: usage::read(&record.cgroup_paths),
        net_rx,
        net_tx,
        at: Instant::now(),
    }
}

/// CPU use between two samples, in percent of one CPU (docker's CPU %: 200% is two CPUs
/// busy).
pub fn cpu_percent(before: &Sample, after: &Sample) -> f64 {
    let wall = after.at.duration_since(before.at).as_micros() as f64;
    let cpu = after.usage.cpu_usec.saturating_sub(before.usage.cpu_usec) as f64;
    match wall > 0.0 {
        true => cpu / wall * 100.0,
        false => 0.0,
    }
}

/// The host's memory, the limit `stats` shows for a container without one (as docker).
pub fn host_memory() -> u64 {
    let text = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Received and sent bytes of every interface but `lo` in the namespace of `pid`.
fn net_dev(pid: i32) -> (u64, u64) {
    let text = std::fs::read_to_string(format!("/proc/{pid}/net/dev")).unwrap_or_default();
    parse_net_dev(&text)
}

fn parse_net_dev(text: &str) -> (u64, u64) {
    let mut sum = (0, 0);
    for line in text.lines().skip(2) {
        let Some((iface, counters)) = line.split_once(':') else {
            continue;
        };
        if iface.trim() == "lo" {
            continue;
        }
        let f: Vec<u64> = counters
            .split_whitespace()
            .map(|n| n.parse().unwrap_or(0))
            .collect();
        if f.len() >= 9 {
            sum.0 += f[0];
            sum.1 += f[8];
        }
    }
    sum
}

#[cfg(test)]
mod tests {
    #[test]
    fn net_dev_sums_all_but_lo() {
        let text = "Inter-|   Receive                                                |  Transmit\n \
            face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    \
            lo:     100       1    0    0    0     0          0         0      100       1    0    0    0     0       0          0\n  \
            eth0:    2000      10    0    0    0     0          0         0      3000      12    0    0    0     0       0          0\n";
        assert_eq!(super::parse_net_dev(text), (2000, 3000));
    }
}
