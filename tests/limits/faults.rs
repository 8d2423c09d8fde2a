//! Load and faults: 200 containers at once, and the containers that end badly (OOM-killed,
//! PID 1 ignoring SIGTERM, children outliving PID 1, mdrun killed under a running
//! container). Each ends up recorded correctly, and `rm` leaves nothing behind.

use crate::common;
use crate::common::*;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A container's saved record, as JSON.
fn record(env: &TestEnv, name: &str) -> serde_json::Value {
    for id in env.containers() {
        let path = env.root.join("containers").join(&id).join("container.json");
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        if v["name"] == name {
            return v;
        }
    }
    panic!("no record named {name} in {}", env.root.display());
}

/// `mdrun ps -a --format json`, as (name, status) pairs.
fn ps_all(env: &TestEnv) -> Vec<(String, String)> {
    let out = env.mdrun(&["ps", "-a", "--format", "json"]);
    out.assert_ok();
    let v: serde_json::Value =
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out}"));
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let name = e["Name"].as_str().unwrap_or_default().to_string();
            let status = e["Status"].as_str().unwrap_or_default().to_string();
            (name, status)
        })
        .collect()
}

fn wait_until(what: &str, within: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// Every mdrun-* cgroup under the scenario's parent, in every hierarchy.
fn container_cgroups(env: &TestEnv) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for ctl in ["memory", "pids", "cpu", "devices", "freezer"] {
        let dir = env.cgroup_dir(ctl);
        for name in common::files::names(&dir) {
            if name.starts_with("mdrun-") {
                found.push(dir.join(name));
            }
        }
    }
    found
}

#[test]
fn two_hundred_concurrent_containers_all_finish_right() {
    // It burns both cores: not at the same time as the CPU measurement of cgroups.rs.
    let _heavy = heavy_lock();
    let env = TestEnv::new();
    env.keep_containers();
    // All 200 at once: one thread each, let go together.
    const TOTAL: usize = 200;
    const PARALLEL: usize = TOTAL;
    let gate = std::sync::Barrier::new(PARALLEL);
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    let start = Instant::now();
    // TestEnv is not Sync: the threads build their commands from its parts.
    let (dir, config) = (env.dir.clone(), env.config.clone());
    let mdrun = |args: &[&str]| {
        Cmd::new(MDRUN, &dir)
            .args(args)
            .env("MDRUN_CONFIG", &config)
            .run()
    };
    std::thread::scope(|s| {
        for _ in 0..PARALLEL {
            s.spawn(|| {
                gate.wait();
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= TOTAL {
                        break;
                    }
                    let code = (i % 50) as i32;
                    let name = format!("load-{i}");
                    let cmd = format!("exit {code}");
                    let limits = ["--memory", "64m", "--pids-limit", "50"];
                    let mut args: Vec<&str> = vec!["run", "--name", &name];
                    let detached = i % 4 >= 2;
                    if i % 2 == 0 {
                        args.push("--rm");
                    }
                    if detached {
                        args.push("-d");
                    }
                    if i % 3 == 0 {
                        args.extend(limits);
                    }
                    args.extend(["busybox", "sh", "-c", &cmd]);
                    let out = mdrun(&args);
                    let want = if detached { 0 } else { code };
                    if out.code != want {
                        failures
                            .lock()
                            .unwrap()
                            .push(format!("{name}: expected {want}\n{out}"));
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Detached ones: each kept record says its code; the --rm ones go away by themselves.
    wait_until(
        "the detached containers to finish",
        Duration::from_secs(60),
        || {
            ps_all(&env)
                .iter()
                .all(|(_, status)| !status.starts_with("Up"))
                && env.containers().len() == TOTAL / 2
        },
    );
    let elapsed = start.elapsed();
    let mut listed = ps_all(&env);
    listed.sort();
    let mut expect: Vec<(String, String)> = (0..TOTAL)
        .filter(|i| i % 2 == 1)
        .map(|i| (format!("load-{i}"), format!("Exited ({})", i % 50)))
        .collect();
    expect.sort();
    // Status is "Exited (N) 2 seconds ago": compare the "Exited (N)" part.
    let got: Vec<(String, String)> = listed
        .iter()
        .map(|(n, s)| {
            (
                n.clone(),
                s.split_inclusive(')').next().unwrap_or(s).to_string(),
            )
        })
        .collect();
    assert_eq!(got, expect, "ps -a disagrees with what ran");
    // The cgroup tree and the mount table: nothing of a finished container.
    assert_eq!(
        container_cgroups(&env),
        Vec::<PathBuf>::new(),
        "cgroups left"
    );
    assert!(
        mounts::mounts_under(&env.dir).is_empty(),
        "mounts left: {:?}",
        mounts::mounts_under(&env.dir)
    );
    let names: Vec<String> = expect.iter().map(|(n, _)| n.clone()).collect();
    for chunk in names.chunks(50) {
        let mut args = vec!["rm".to_string()];
        args.extend(chunk.iter().cloned());
        env.mdrun(&args).assert_ok();
    }
    eprintln!("200 containers in {elapsed:?}");
    env.assert_clean();
}

#[test]
fn an_oom_killed_container_is_recorded_and_removed() {
    let env = TestEnv::new();
    env.keep_containers();
    // A string that doubles until the 16 MiB limit stops it.
    let out = env.mdrun(&[
        "run",
        "--name",
        "oom",
        "--memory",
        "16m",
        "--memory-swap",
        "16m",
        "busybox",
        "awk",
        "BEGIN { s = \"x\"; while (1) s = s s }",
    ]);
    assert_eq!(out.code, 137, "{out}");
    let r = record(&env, "oom");
    assert_eq!(r["oom_killed"], true, "{r}");
    assert_eq!(r["status"], "exited", "{r}");
    env.mdrun(&["rm", "oom"]).assert_ok();
    env.assert_clean();
}

/// Nobody attached: the detached container's supervisor records the OOM kill.
#[test]
fn an_oom_kill_of_a_detached_container_is_recorded_by_its_supervisor() {
    let env = TestEnv::new();
    env.keep_containers();
    env.mdrun(&[
        "run",
        "-d",
        "--name",
        "oom-d",
        "--memory",
        "20m",
        "--memory-swap",
        "20m",
        "busybox",
        "awk",
        "BEGIN { s = \"x\"; while (1) s = s s }",
    ])
    .assert_ok();
    let out = env.mdrun(&["wait", "oom-d"]);
    out.assert_ok();
    assert_eq!(out.out(), "137", "{out}");
    let inspect = env.mdrun(&["inspect", "oom-d"]);
    inspect.assert_ok();
    let json: serde_json::Value = serde_json::from_str(&inspect.stdout).unwrap();
    assert_eq!(json[0]["State"]["OOMKilled"], true, "{inspect}");
    assert_eq!(json[0]["State"]["Status"], "exited", "{inspect}");
    assert_eq!(
        json[0]["Mdrun"]["supervisor_pid"],
        serde_json::Value::Null,
        "{inspect}"
    );
    let entry = ps_all(&env);
    assert!(
        entry
            .iter()
            .any(|(n, s)| n == "oom-d" && s.starts_with("Exited (137)")),
        "{entry:?}"
    );
    env.mdrun(&["rm", "oom-d"]).assert_ok();
    env.assert_clean();
}

#[test]
fn pid_1_ignoring_sigterm_is_killed_by_stop_and_recorded() {
    let env = TestEnv::new();
    env.keep_containers();
    env.mdrun(&[
        "run",
        "-d",
        "--name",
        "deaf",
        "busybox",
        "sh",
        "-c",
        "trap '' TERM; while :; do sleep 1; done",
    ])
    .assert_ok();
    let start = Instant::now();
    env.mdrun(&["stop", "-t", "1", "deaf"]).assert_ok();
    assert!(
        start.elapsed() < Duration::from_secs(8),
        "stop -t 1 took {:?}",
        start.elapsed()
    );
    let out = env.mdrun(&["wait", "deaf"]);
    assert_eq!(out.out(), "137", "{out}");
    env.mdrun(&["rm", "deaf"]).assert_ok();
    env.assert_clean();
}

#[test]
fn children_that_outlive_pid_1_are_killed_with_it() {
    let env = TestEnv::new();
    env.keep_containers();
    // A daemonised child (own session) and a plain background one: PID 1 exits at once.
    let out = env.mdrun(&[
        "run",
        "--name",
        "orphans",
        "busybox",
        "sh",
        "-c",
        "setsid sleep 1000 & sleep 1000 & exit 3",
    ]);
    assert_eq!(out.code, 3, "{out}");
    assert_eq!(
        container_cgroups(&env),
        Vec::<PathBuf>::new(),
        "the container's cgroups outlived it"
    );
    let r = record(&env, "orphans");
    assert_eq!(r["status"], "exited", "{r}");
    env.mdrun(&["rm", "orphans"]).assert_ok();
    env.assert_clean();
}

#[test]
fn container_exiting_while_mdrun_is_killed_is_cleaned_by_rm() {
    let env = TestEnv::new();
    env.keep_containers();
    // Detached: kill its supervisor while the command runs.
    env.mdrun(&[
        "run",
        "-d",
        "--name",
        "lost",
        "busybox",
        "sh",
        "-c",
        "sleep 1; exit 5",
    ])
    .assert_ok();
    let supervisor = record(&env, "lost")["supervisor_pid"]
        .as_i64()
        .expect("supervisor pid") as i32;
    // SAFETY: kill(2) of the supervisor this test started through mdrun.
    assert_eq!(unsafe { libc::kill(supervisor, libc::SIGKILL) }, 0);
    // Attached: kill mdrun itself under a running command.
    let attached = env
        .cmd(&[
            "run",
            "--name",
            "lost2",
            "busybox",
            "sh",
            "-c",
            "sleep 1; exit 6",
        ])
        .spawn();
    // Once it is recorded as running (placed, released, saved).
    wait_until("lost2 to run", Duration::from_secs(10), || {
        ps_all(&env)
            .iter()
            .any(|(n, s)| n == "lost2" && s.starts_with("Up"))
    });
    // SAFETY: kill(2) of our own child.
    unsafe { libc::kill(attached.pid() as i32, libc::SIGKILL) };
    // Reap it: a zombie mdrun would still look like a live supervisor.
    let killed = attached.wait();
    assert_eq!(killed.code, 128 + libc::SIGKILL, "{killed}");
    wait_until(
        "both containers' processes to end",
        Duration::from_secs(10),
        || {
            container_cgroups(&env).iter().all(|d| {
                std::fs::read_to_string(d.join("cgroup.procs"))
                    .map(|p| p.trim().is_empty())
                    .unwrap_or(true)
            })
        },
    );
    // No longer running, whatever their records said when mdrun died. (Their inits are
    // orphans now: until this machine's PID 1 reaps them they are zombies, which `ps` may
    // still count as running, so give it time.)
    let inits: Vec<i64> = ["lost", "lost2"]
        .iter()
        .filter_map(|n| record(&env, n)["pid"].as_i64())
        .collect();
    let deadline = Instant::now() + Duration::from_secs(15);
    while ps_all(&env).iter().any(|(_, s)| s.starts_with("Up")) {
        let states: Vec<String> = inits
            .iter()
            .map(|p| std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default())
            .collect();
        assert!(
            Instant::now() < deadline,
            "ps -a still shows a container up: {:?}; inits: {states:?}",
            ps_all(&env)
        );
        std::thread::sleep(Duration::from_millis(25));
    }
    let listed = ps_all(&env);
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(
        listed.iter().all(|(_, s)| !s.starts_with("Up")),
        "{listed:?}"
    );
    env.mdrun(&["rm", "lost", "lost2"]).assert_ok();
    env.assert_clean();
}
