//! What a container's cgroup has used, as `mdrun stats` shows it: CPU time, memory and its
//! limit, processes, block I/O. Read from the container's own cgroup directories (one per
//! v1 hierarchy, or the v2 one), each figure from the file the kernel keeps it in.

use std::path::{Path, PathBuf};

/// One reading of the counters. A figure whose file is missing is 0 (`memory_limit`:
/// None, unlimited).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Usage {
    /// CPU time, microseconds: v2 `cpu.stat` usage_usec, v1 `cpuacct.usage` / 1000.
    pub cpu_usec: u64,
    /// v2 `memory.current`, v1 `memory.usage_in_bytes`, less the inactive file cache (v2
    /// `inactive_file`, v1 `total_inactive_file` of `memory.stat`), as docker's CLI shows it
    /// (`calculateMemUsageUnixNoCache`): cache the kernel reclaims first is not "used".
    pub memory: u64,
    /// v2 `memory.max`, v1 `memory.limit_in_bytes` (None when unlimited).
    pub memory_limit: Option<u64>,
    /// `pids.current`.
    pub pids: u64,
    /// Bytes read and written: v2 `io.stat` rbytes/wbytes, v1
    /// `blkio.throttle.io_service_bytes` Read/Write.
    pub block_read: u64,
    pub block_write: u64,
}

/// Read the counters of the cgroup whose directories are `dirs`.
pub fn read(dirs: &[PathBuf]) -> Usage {
    let find = |file: &str| dirs.iter().find(|d| d.join(file).exists());
    let text = |dir: &Path, file: &str| std::fs::read_to_string(dir.join(file)).unwrap_or_default();
    let number = |file: &str| {
        find(file)
            .and_then(|d| text(d, file).trim().parse::<u64>().ok())
            .unwrap_or(0)
    };
    let mut u = Usage {
        pids: number("pids.current"),
        ..Usage::default()
    };
    if let Some(d) = find("cpu.stat").filter(|d| d.join("cgroup.controllers").exists()) {
        u.cpu_usec = keyed(&text(d, "cpu.stat"), "usage_usec");
    } else {
        u.cpu_usec = number("cpuacct.usage") / 1000;
    }
    let no_cache = |usage: u64, inactive: u64| match inactive < usage {
        true => usage - inactive,
        false => usage,
    };
    if let Some(d) = find("memory.current") {
        let usage = text(d, "memory.current").trim().parse().unwrap_or(0);
        u.memory = no_cache(usage, keyed(&text(d, "memory.stat"), "inactive_file"));
        u.memory_limit = text(d, "memory.max").trim().parse().ok();
    } else if let Some(d) = find("memory.usage_in_bytes") {
        let usage = text(d, "memory.usage_in_bytes").trim().parse().unwrap_or(0);
        let inactive = keyed(&text(d, "memory.stat"), "total_inactive_file");
        u.memory = no_cache(usage, inactive);
        // v1's "unlimited" is the largest page-aligned i64.
        u.memory_limit = text(d, "memory.limit_in_bytes")
            .trim()
            .parse()
            .ok()
            .filter(|l: &u64| *l < (i64::MAX as u64) & !0xfff);
    }
    if let Some(d) = find("io.stat") {
        let io = text(d, "io.stat");
        for line in io.lines() {
            u.block_read += keyed_eq(line, "rbytes");
            u.block_write += keyed_eq(line, "wbytes");
        }
    } else if let Some(d) = find("blkio.throttle.io_service_bytes") {
        for line in text(d, "blkio.throttle.io_service_bytes").lines() {
            let f: Vec<&str> = line.split_whitespace().collect();
            match f.as_slice() {
                [_, "Read", n] => u.block_read += n.parse::<u64>().unwrap_or(0),
                [_, "Write", n] => u.block_write += n.parse::<u64>().unwrap_or(0),
                _ => {}
            }
        }
    }
    u
}

/// `key N` in a flat-keyed file (cpu.stat).
fn keyed(text: &str, key: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or(0)
}

/// `key=N` in a nested-keyed line (io.stat: `8:0 rbytes=1 wbytes=2 ...`).
fn keyed_eq(line: &str, key: &str) -> u64 {
    line.split_whitespace()
        .find_map(|f| f.strip_prefix(key)?.strip_prefix('=')?.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let w = |f: &str, s: &str| std::fs::write(d.join(f), s).unwrap();
        w("cgroup.controllers", "cpu memory pids io\n");
        w("cpu.stat", "usage_usec 1500\nuser_usec 1000\n");
        w("memory.current", "12288\n");
        w("memory.stat", "active_file 1\ninactive_file 8192\n");
        w("memory.max", "max\n");
        w("pids.current", "3\n");
        w(
            "io.stat",
            "8:0 rbytes=10 wbytes=20 rios=1\n8:16 rbytes=1 wbytes=2\n",
        );
        let u = read(&[d.to_path_buf()]);
        assert_eq!(
            u,
            Usage {
                cpu_usec: 1500,
                memory: 4096,
                memory_limit: None,
                pids: 3,
                block_read: 11,
                block_write: 22,
            }
        );
    }

    #[test]
    fn v1_files_are_read_across_hierarchies() {
        let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
        let w = |i: usize, f: &str, s: &str| std::fs::write(dirs[i].path().join(f), s).unwrap();
        w(0, "memory.usage_in_bytes", "12288\n");
        w(
            0,
            "memory.stat",
            "inactive_file 1\ntotal_inactive_file 4096\n",
        );
        w(0, "memory.limit_in_bytes", "104857600\n");
        w(1, "cpuacct.usage", "3000000\n");
        w(1, "cpu.stat", "nr_periods 0\n");
        w(2, "pids.current", "2\n");
        w(
            2,
            "blkio.throttle.io_service_bytes",
            "8:0 Read 5\n8:0 Write 7\n8:0 Total 12\nTotal 12\n",
        );
        let paths: Vec<PathBuf> = dirs.iter().map(|d| d.path().to_path_buf()).collect();
        let u = read(&paths);
        assert_eq!(u.memory, 8192);
        assert_eq!(u.memory_limit, Some(104857600));
        assert_eq!(u.cpu_usec, 3000);
        assert_eq!(u.pids, 2);
        assert_eq!((u.block_read, u.block_write), (5, 7));
        w(0, "memory.limit_in_bytes", "9223372036854771712\n");
        assert_eq!(read(&paths).memory_limit, None);
    }
}
