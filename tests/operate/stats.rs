//! `mdrun stats`: its figures are the cgroup's own (memory less its inactive file cache,
//! pids), in docker's shape.

use crate::common::*;
use crate::util::*;
use serde_json::Value;

fn read_number(dir: &std::path::Path, file: &str) -> u64 {
    std::fs::read_to_string(dir.join(file))
        .unwrap_or_else(|e| panic!("read {}/{file}: {e}", dir.display()))
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn stats_no_stream_json_matches_the_cgroup() {
    let env = TestEnv::new();
    let id = detached(
        &env,
        "st",
        &["--memory", "64m"],
        // 16 MiB of file cache first, which docker does not count as used.
        &[
            "sh",
            "-c",
            "dd if=/dev/zero of=/cache bs=1M count=16 2>/dev/null; sleep 1000 & sleep 1000 & wait",
        ],
    );
    let pids = env.container_cgroup("pids");
    until("three processes", || {
        read_number(&pids, "pids.current") == 3
    });
    let out = env.mdrun(&["stats", "--no-stream", "--format", "json", "st"]);
    out.assert_ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{out}");
    let row: Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(row["ID"], &id[..12]);
    assert_eq!(row["Name"], "st");
    assert_eq!(row["PIDs"], "3");
    assert_eq!(row["PidsCurrent"], 3);
    let mem = env.container_cgroup("memory");
    let (usage, limit, inactive) = match mem.join("memory.usage_in_bytes").exists() {
        true => (
            "memory.usage_in_bytes",
            "memory.limit_in_bytes",
            "total_inactive_file",
        ),
        false => ("memory.current", "memory.max", "inactive_file"),
    };
    let stat = std::fs::read_to_string(mem.join("memory.stat")).unwrap();
    let inactive: u64 = stat
        .lines()
        .find_map(|l| l.strip_prefix(inactive)?.strip_prefix(' ')?.parse().ok())
        .unwrap();
    assert!(inactive >= 8 << 20, "the file cache is inactive: {stat}");
    // Docker's figure: usage less the inactive file cache. Three sleeping processes, but the
    // kernel's own charges move a little between mdrun's read and ours (228 KiB seen on a
    // loaded machine): within 1 MiB, far less than the 8 MiB of inactive cache left out.
    let ours = read_number(&mem, usage) - inactive;
    let theirs = row["MemoryBytes"].as_u64().unwrap();
    assert!(theirs.abs_diff(ours) < 1 << 20, "{row}: ours {ours}");
    assert_eq!(row["MemoryLimitBytes"], read_number(&mem, limit));
    assert_eq!(row["MemoryLimitBytes"], 64u64 << 20);
    assert!(
        row["MemUsage"].as_str().unwrap().ends_with(" / 64MiB"),
        "{row}"
    );
    assert!(row["CPUPerc"].as_str().unwrap().ends_with('%'), "{row}");
    assert_eq!(row["NetIO"], "0B / 0B", "no interface but lo: {row}");

    // The table, with every running container when none is named.
    let out = env.mdrun(&["stats", "--no-stream"]);
    out.assert_ok();
    let mut lines = out.stdout.lines();
    let header = lines.next().unwrap();
    for h in [
        "CONTAINER ID",
        "NAME",
        "CPU %",
        "MEM USAGE / LIMIT",
        "MEM %",
        "NET I/O",
        "BLOCK I/O",
        "PIDS",
    ] {
        assert!(header.contains(h), "{header}");
    }
    let row = lines.next().unwrap();
    assert!(row.starts_with(&id[..12]) && row.contains(" st "), "{out}");
    assert!(row.trim_end().ends_with(" 3"), "{out}");

    env.mdrun(&["stats", "--no-stream", "nope"])
        .assert_one_line_error(125);
    env.mdrun(&["stats", "--no-stream", "--format", "yaml"])
        .assert_one_line_error(125);
    env.mdrun(&["rm", "-f", "st"]).assert_ok();
    env.assert_clean();
}
