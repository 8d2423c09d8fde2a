//! Resource limits, each checked against the kernel's own accounting of the container's
//! cgroup (`<cgroup_parent>/mdrun-<id>`), read from the host while the container runs.
//!
//! Every test here holds the heavy lock: they burn CPU or memory, and the CPU measurement
//! must not share the machine's two cores with them.

use crate::common::*;
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

fn read(path: &Path) -> String {
    fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
        .trim()
        .to_string()
}

fn read_u64(path: &Path) -> u64 {
    read(path)
        .parse()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `oom_kill N` from memory.oom_control (the kernel's count of OOM kills in the cgroup).
fn oom_kills(cgroup: &Path) -> u64 {
    read(&cgroup.join("memory.oom_control"))
        .lines()
        .find_map(|l| l.strip_prefix("oom_kill "))
        .map(|n| n.parse().unwrap())
        .unwrap_or(0)
}

#[test]
fn memory_limit_kills_at_100m() {
    let _heavy = heavy_lock();
    let env = TestEnv::new();
    // The acceptance test: tail keeps all of its newline-free input in memory.
    let out = env.mdrun(&[
        "--rm",
        "--memory",
        "100m",
        "busybox",
        "sh",
        "-c",
        "head -c 200m /dev/zero | tail",
    ]);
    out.assert_code(137);
    env.assert_clean();
}

#[test]
fn memory_limit_lets_50m_through_under_100m() {
    let _heavy = heavy_lock();
    let env = TestEnv::new();
    let out = env.mdrun(&[
        "--rm",
        "--memory",
        "100m",
        "busybox",
        "sh",
        "-c",
        "head -c 50m /dev/zero | tail",
    ]);
    out.assert_ok();
    env.assert_clean();
}

#[test]
fn memory_limit_is_the_kernels_and_the_oom_killer_acts_in_the_container() {
    let _heavy = heavy_lock();
    let env = TestEnv::new();
    let script = "head -c 200m /dev/zero | tail; echo tail=$?; sleep 2";
    let running = env.spawn(&["-m", "100m", "busybox", "sh", "-c", script]);
    let cgroup = env.container_cgroup("memory");
    assert_eq!(read_u64(&cgroup.join("memory.limit_in_bytes")), 100 << 20);
    // Without swap accounting set, docker lets memory+swap be twice the memory.
    if cgroup.join("memory.memsw.limit_in_bytes").exists() {
        let memsw = read_u64(&cgroup.join("memory.memsw.limit_in_bytes"));
        assert!(
            memsw == 200 << 20 || memsw == 100 << 20,
            "memory.memsw.limit_in_bytes = {memsw}"
        );
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while oom_kills(&cgroup) == 0 {
        assert!(
            Instant::now() < deadline,
            "no OOM kill in {} within 20 s",
            cgroup.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let max_usage = read_u64(&cgroup.join("memory.max_usage_in_bytes"));
    assert!(
        max_usage <= 100 << 20,
        "memory.max_usage_in_bytes {max_usage} over the limit"
    );
    let out = running.wait();
    out.assert_ok();
    assert_eq!(out.stdout, "tail=137\n", "{out}");
    env.assert_clean();
}

#[test]
fn memory_swap_is_set_in_the_kernel() {
    let _heavy = heavy_lock();
    let env = TestEnv::new();
    let running = env.spawn(&[
        "-m",
        "64m",
        "--memory-swap",
        "128m",
        "busybox",
        "sleep",
        "2",
    ]);
    let cgroup = env.container_cgroup("memory");
    assert_eq!(read_u64(&cgroup.join("memory.limit_in_bytes")), 64 << 20);
    let memsw = cgroup.join("memory.memsw.limit_in_bytes");
    assert!(
        memsw.exists(),
        "this kernel has no swap accounting ({} missing)",
        memsw.display()
    );
    assert_eq!(read_u64(&memsw), 128 << 20);
    running.wait().assert_ok();
}

#[test]
fn pids_limit_stops_a_fork_loop_at_20() {
    let _heavy = heavy_lock();
    let env = TestEnv::new();
    // xargs keeps starting sleeps (up to 40 at once) until a fork fails; the shell itself
    // would exit at its first failed fork. sh + seq + xargs + sleeps share the 20.
    let script = "seq 1 40 | xargs -n 1 -P 40 sleep 3; echo xargs=$?";
    let running = env.spawn(&["--pids-limit", "20", "busybox", "sh", "-c", script]);
    let cgroup = env.container_cgroup("pids");
    assert_eq!(read(&cgroup.join("pids.max")), "20");
    let mut most = 0;
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        let Ok(now) = fs::read_to_string(cgroup.join("pids.current")) else {
            break;
        };
        most = most.max(now.trim().parse::<u64>().unwrap_or(0));
        std::thread::sleep(Duration::from_millis(10));
    }
    let events = read(&cgroup.join("pids.events"));
    let out = running.wait();
    assert_eq!(
        most, 20,
        "the container's pids.current peaked at {most}, not at its limit 20\n{out}"
    );
    assert!(
        events != "max 0",
        "pids.events says no fork was refused: {events}"
    );
    assert!(
        out.stderr.contains("Resource temporarily unavailable"),
        "{out}"
    );
    assert!(
        out.stdout.contains("xargs="),
        "the shell itself did not survive the limit:\n{out}"
    );
    env.assert_clean();
}

#[test]
fn cpus_half_limits_usage_to_half_a_cpu() {
    let _heavy = heavy_lock();
    let env = TestEnv::new();
    // Two busy loops: unlimited they would use both cores.
    let script = "while :; do :; done & while :; do :; done";
    let running = env
        .cmd(&[
            "run", "--rm", "--cpus", "0.5", "busybox", "sh", "-c", script,
        ])
        .spawn();
    let cgroup = env.container_cgroup("cpuacct");
    let cpu = env.container_cgroup("cpu");
    assert_eq!(read(&cpu.join("cpu.cfs_quota_us")), "50000");
    assert_eq!(read(&cpu.join("cpu.cfs_period_us")), "100000");
    std::thread::sleep(Duration::from_millis(500)); // let both loops start
    let (t0, u0) = (Instant::now(), read_u64(&cgroup.join("cpuacct.usage")));
    std::thread::sleep(Duration::from_secs(3));
    let (t1, u1) = (Instant::now(), read_u64(&cgroup.join("cpuacct.usage")));
    let cpus = (u1 - u0) as f64 / (t1 - t0).as_nanos() as f64;
    // Stop it from the host: kill the container's processes (ours).
    for pid in read(&cgroup.join("cgroup.procs")).lines() {
        // SAFETY: kill(2) of a process in this test's own container.
        unsafe { libc::kill(pid.parse().unwrap(), libc::SIGKILL) };
    }
    running.wait();
    assert!(
        (0.3..=0.7).contains(&cpus),
        "the container used {cpus:.2} CPUs with --cpus 0.5"
    );
    env.assert_clean();
}

#[test]
fn cpuset_cpus_pins_the_container() {
    let env = TestEnv::new();
    let script = "grep Cpus_allowed_list /proc/self/status; nproc; sleep 1";
    let running = env.spawn(&["--cpuset-cpus", "0", "busybox", "sh", "-c", script]);
    let cgroup = env.container_cgroup("cpuset");
    assert_eq!(read(&cgroup.join("cpuset.cpus")), "0");
    let out = running.wait();
    out.assert_ok();
    let fields: Vec<&str> = out.stdout.split_whitespace().collect();
    assert_eq!(fields, ["Cpus_allowed_list:", "0", "1"], "{out}");
}

#[test]
fn cpu_shares_is_set_in_the_kernel() {
    let env = TestEnv::new();
    let running = env.spawn(&["--cpu-shares", "512", "busybox", "sleep", "1"]);
    let cgroup = env.container_cgroup("cpu");
    assert_eq!(read(&cgroup.join("cpu.shares")), "512");
    running.wait().assert_ok();
}

#[test]
fn without_limits_the_container_still_gets_a_cgroup_of_its_own() {
    let env = TestEnv::new();
    let running = env.spawn(&["busybox", "sleep", "1"]);
    for controller in [
        "memory", "cpu", "cpuacct", "cpuset", "pids", "devices", "freezer",
    ] {
        let cgroup = env.container_cgroup(controller);
        let name = cgroup.file_name().unwrap().to_str().unwrap().to_string();
        assert!(name.starts_with("mdrun-"), "{}", cgroup.display());
    }
    // Its process is in there, in each hierarchy.
    let pids = read(&env.container_cgroup("memory").join("cgroup.procs"));
    assert!(!pids.is_empty());
    running.wait().assert_ok();
    env.assert_clean();
}

#[test]
fn cgroup_parent_flag_places_the_container() {
    let env = TestEnv::new();
    let parent = format!("{}/sub", env.cgroup.path);
    let running = env.spawn(&["--cgroup-parent", &parent, "busybox", "sleep", "1"]);
    let memory = env.cgroup_dir("memory").join("sub");
    let deadline = Instant::now() + Duration::from_secs(15);
    while !files::names(&memory)
        .iter()
        .any(|n| n.starts_with("mdrun-"))
    {
        assert!(
            Instant::now() < deadline,
            "no container cgroup appeared in {}",
            memory.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    running.wait().assert_ok();
    // The container's own cgroups are gone; the parent it made may stay (as with docker).
    for controller in [
        "memory", "cpu", "cpuacct", "cpuset", "pids", "devices", "freezer",
    ] {
        let sub = env.cgroup_dir(controller).join("sub");
        let left: Vec<String> = files::names(&sub)
            .into_iter()
            .filter(|n| n.starts_with("mdrun-"))
            .collect();
        assert!(left.is_empty(), "left in {}: {left:?}", sub.display());
        let _ = fs::remove_dir(&sub);
    }
    env.assert_clean();
}
