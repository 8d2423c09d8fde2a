//! mdrun's systemd integration against a real systemd and journald, booted privately for
//! these tests (see tests/common/systemd.rs): scopes over D-Bus, and the journald driver.
//!
//! The library calls run inside the sandbox: this test binary re-executes itself there
//! (`helper`, an ignored test that acts on $MDRUN_SD_HELPER), because a multi-threaded
//! test process cannot enter another mount namespace itself.

use crate::sandbox::Sandbox;
use mdrun::logs::{self, Context, ReadOptions, Source, Stream};
use mdrun::placement::{self, Request};
use mdrun::spec::Limits;
use mdrun::state::{CgroupManager as Manager, LogDriver as Driver};
use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::sync::{Mutex, OnceLock};

const HELPER_ENV: &str = "MDRUN_SD_HELPER";

static SB: OnceLock<Mutex<Option<Sandbox>>> = OnceLock::new();

/// One sandbox for the whole binary, booted by the first test that needs it. Tests take
/// turns (the lock) and each cleans up its own units. Statics are never dropped, so an
/// atexit handler powers the sandbox off when the test process exits, whatever passed.
fn sandbox() -> std::sync::MutexGuard<'static, Option<Sandbox>> {
    let m = SB.get_or_init(|| Mutex::new(None));
    let mut g = m.lock().unwrap_or_else(|e| e.into_inner());
    if g.is_none() {
        *g = Some(Sandbox::boot());
        // SAFETY: registers a plain function to run at exit(3); no memory is shared.
        unsafe { libc::atexit(power_off) };
    }
    g
}

extern "C" fn power_off() {
    if let Some(m) = SB.get() {
        let mut g = m.lock().unwrap_or_else(|e| e.into_inner());
        drop(g.take());
    }
}

/// `helper` as the test harness names it: its path in the test binary, without the crate
/// (`scope::helper` in tests/systemd/main.rs), for `--exact`.
fn helper_name() -> String {
    match module_path!().split_once("::") {
        Some((_crate, module)) => format!("{module}::helper"),
        None => "helper".to_string(),
    }
}

fn helper_command(sb: &Sandbox, mode: &str, args: &[&str]) -> std::process::Command {
    let exe = std::env::current_exe().unwrap();
    let mut argv: Vec<String> = vec!["env".into(), format!("{HELPER_ENV}={mode}")];
    argv.push(format!("MDRUN_SD_ARGS={}", args.join(" ")));
    argv.push(exe.to_string_lossy().into_owned());
    argv.push(helper_name());
    argv.extend(["--exact", "--ignored", "--nocapture", "--test-threads=1"].map(String::from));
    sb.command(&argv)
}

fn random_id() -> String {
    use rand::RngCore;
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The re-executed side. Does nothing (and is ignored) in a normal run.
#[test]
#[ignore]
fn helper() {
    let Ok(mode) = std::env::var(HELPER_ENV) else {
        return;
    };
    let args: Vec<String> = std::env::var("MDRUN_SD_ARGS")
        .unwrap_or_default()
        .split_whitespace()
        .map(String::from)
        .collect();
    match mode.as_str() {
        "place" => helper_place(&args),
        "journal" => helper_journal(&args),
        "read" => helper_read(&args),
        "refused" => helper_refused(&args),
        other => panic!("unknown helper mode {other}"),
    }
}

/// args: id. Starts `sleep`, places it in a scope with limits, prints the scope and its
/// start latency, waits for stdin to close, then ends the container.
fn helper_place(args: &[String]) {
    let id = &args[0];
    let mut child = std::process::Command::new("sleep")
        .arg("600")
        .spawn()
        .unwrap();
    let limits = Limits {
        memory: Some(100 << 20),
        pids_limit: Some(64),
        cpu_quota: Some(50_000),
        cpu_period: Some(100_000),
        ..Limits::default()
    };
    let command = vec!["sleep".to_string(), "600".to_string()];
    let req = Request {
        id,
        name: "web",
        command: &command,
        limits: &limits,
        cgroup_parent: None,
        pid: child.id() as i32,
    };
    let placed = placement::place_in(Manager::Systemd, &req, "machine.slice").unwrap();
    println!(
        "HELPER: {} {} {}",
        placed.scope.as_deref().unwrap(),
        placed.scope_start.unwrap().as_micros(),
        placed
            .cgroup
            .paths()
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(",")
    );
    std::io::stdout().flush().unwrap();
    let mut s = String::new();
    let _ = std::io::stdin().read_line(&mut s);
    let _ = child.kill();
    let _ = child.wait();
    let cg = placed.cgroup.disarm();
    cg.destroy().unwrap();
}

/// args: id. Places `sleep` in the scope of `id` (so the name is taken), then tries to
/// place a second container under the same id, and a third whose init does not exist
/// (systemd refuses its PIDs). Prints both errors, then waits for stdin to close.
fn helper_refused(args: &[String]) {
    let id = &args[0];
    let command = vec!["sleep".to_string(), "600".to_string()];
    let limits = Limits {
        memory: Some(100 << 20),
        ..Limits::default()
    };
    let spawn = || {
        std::process::Command::new("sleep")
            .arg("600")
            .spawn()
            .unwrap()
    };
    let req = |id: &'static str, pid: u32| request(id, pid, &command, &limits);
    let id: &'static str = id.clone().leak();
    let mut first = spawn();
    let placed =
        placement::place_in(Manager::Systemd, &req(id, first.id()), "machine.slice").unwrap();
    let mut second = spawn();
    let exists = placement::place_in(Manager::Systemd, &req(id, second.id()), "machine.slice")
        .err()
        .expect("a second scope of the same name");
    let _ = second.kill();
    let _ = second.wait();
    // A pid that is gone: a child already reaped.
    let mut gone = std::process::Command::new("true").spawn().unwrap();
    let gone_pid = gone.id();
    gone.wait().unwrap();
    let other: &'static str = other_id(id).leak();
    let refused = placement::place_in(Manager::Systemd, &req(other, gone_pid), "machine.slice")
        .err()
        .expect("systemd refuses a pid that does not exist");
    println!("HELPER: {}", exists.to_string().replace('\n', " "));
    println!("HELPER2: {}", refused.to_string().replace('\n', " "));
    std::io::stdout().flush().unwrap();
    let mut s = String::new();
    let _ = std::io::stdin().read_line(&mut s);
    let _ = first.kill();
    let _ = first.wait();
    placed.cgroup.disarm().destroy().unwrap();
}

/// Another container id, differing from `id` in its first digit (a fixed one would be `id`
/// itself one time in sixteen).
fn other_id(id: &str) -> String {
    let first = if id.starts_with('f') { 'e' } else { 'f' };
    format!("{first}{}", &id[1..])
}

fn request<'a>(id: &'a str, pid: u32, command: &'a [String], limits: &'a Limits) -> Request<'a> {
    Request {
        id,
        name: "web",
        command,
        limits,
        cgroup_parent: None,
        pid: pid as i32,
    }
}

/// args: id unit lines. Sends `lines` stdout lines (in pipe-sized chunks), one stderr line
/// and a last stdout line without newline through the journald sink.
fn helper_journal(args: &[String]) {
    let (id, unit, n): (&str, &str, usize) = (&args[0], &args[1], args[2].parse().unwrap());
    let ctx = Context {
        id: id.into(),
        name: "web".into(),
        unit: Some(unit.into()),
        pid: 1,
        dir: "/nonexistent".into(),
    };
    let mut sink = logs::open(Driver::Journald, &ctx).unwrap();
    let mut chunk = Vec::with_capacity(65536);
    for i in 0..n {
        chunk.extend_from_slice(format!("line {i}\n").as_bytes());
        if chunk.len() > 65000 {
            sink.write(Stream::Stdout, &chunk);
            chunk.clear();
        }
    }
    sink.write(Stream::Stdout, &chunk);
    sink.write(Stream::Stderr, b"something failed\n");
    sink.write(Stream::Stdout, b"no newline");
    sink.close();
}

/// args: id. Reads the container's journald logs back and prints a summary.
fn helper_read(args: &[String]) {
    let id = &args[0];
    let src = Source {
        driver: Driver::Journald,
        id,
        dir: std::path::Path::new("/nonexistent"),
    };
    let mut count = 0usize;
    let mut in_order = true;
    let mut last = String::new();
    logs::read::read(&src, &ReadOptions::default(), &|| false, &mut |e| {
        if e.stream == Stream::Stdout && e.message.starts_with("line ") {
            if e.message != format!("line {count}") {
                in_order = false;
            }
            count += 1;
        }
        last = e.message.clone();
        true
    })
    .unwrap();
    println!("HELPER: {count} {in_order} {last}");
}

fn helper_line(out: &str) -> String {
    out.lines()
        .find_map(|l| l.split_once("HELPER: ").map(|(_, rest)| rest))
        .unwrap_or_else(|| panic!("no HELPER line in:\n{out}"))
        .to_string()
}

#[test]
fn scope_is_created_with_its_name_properties_and_limits() {
    let guard = sandbox();
    let sb = guard.as_ref().unwrap();
    let id = random_id();
    let mut child = helper_command(sb, "place", &[&id])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    // libtest prints "test helper ... " without a newline before the helper's own output.
    while !line.contains("HELPER: ") {
        line.clear();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "the helper ended without placing the container"
        );
    }
    let fields: Vec<&str> = line
        .trim()
        .split("HELPER: ")
        .nth(1)
        .unwrap()
        .split(' ')
        .collect();
    let unit = fields[0].to_string();
    let latency_us: u64 = fields[1].parse().unwrap();
    eprintln!("scope start latency: {latency_us} us");
    assert_eq!(unit, format!("md-{}.scope", &id[..12]));

    let show = |p: &str| sb.unit_property(&unit, p);
    assert_eq!(show("ActiveState"), "active");
    assert_eq!(show("Slice"), "machine.slice");
    assert_eq!(show("Delegate"), "yes");
    assert_eq!(show("CollectMode"), "inactive-or-failed");
    assert_eq!(show("MemoryMax"), (100u64 << 20).to_string());
    assert_eq!(show("TasksMax"), "64");
    assert_eq!(show("CPUQuotaPerSecUSec"), "500ms");
    assert_eq!(show("OOMPolicy"), "continue");
    assert_eq!(show("MemoryAccounting"), "yes");
    assert!(
        show("Description").starts_with(&format!("mdrun container web ({}): sleep 600", &id[..12]))
    );
    let status = sb.ok(&format!("systemctl status --no-pager {unit} || true"));
    assert!(status.contains("max: 100.0M"), "{status}");
    assert!(
        status.contains("sleep 600"),
        "the container's process is shown:\n{status}"
    );
    // The container's own cgroup, inside the scope, carries the limits too.
    let cg = sb.ok(&format!(
        "cat /sys/fs/cgroup/memory/machine.slice/{unit}/mdrun-{id}/memory.limit_in_bytes"
    ));
    assert_eq!(cg.trim(), (100u64 << 20).to_string());

    drop(child.stdin.take());
    let mut rest = String::new();
    let _ = std::io::Read::read_to_string(&mut reader, &mut rest);
    assert!(child.wait().unwrap().success(), "helper failed:\n{rest}");
    // The scope ends with its last process and is collected.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let state = sb.unit_property(&unit, "ActiveState");
        if state == "inactive" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{unit} still {state}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(
        sb.ok("ls /sys/fs/cgroup/memory/machine.slice/ 2>/dev/null | grep -c md- || true")
            .trim(),
        "0"
    );
}

#[test]
fn journald_entries_carry_the_container_fields_and_show_under_its_scope() {
    let guard = sandbox();
    let sb = guard.as_ref().unwrap();
    let id = random_id();
    let unit = format!("md-{}.scope", &id[..12]);
    let out = sb.output_within(&mut helper_command(sb, "journal", &[&id, &unit, "3"]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    sb.ok("journalctl --sync");
    let by_unit = sb.ok(&format!("journalctl --no-pager -o cat -u {unit}"));
    assert_eq!(
        by_unit,
        "line 0\nline 1\nline 2\nsomething failed\nno newline\n"
    );
    let json = sb.ok(&format!(
        "journalctl --no-pager -o json CONTAINER_ID_FULL={id}"
    ));
    let entries: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(entries.len(), 5);
    let e = &entries[0];
    assert_eq!(e["CONTAINER_ID"], id[..12]);
    assert_eq!(e["CONTAINER_NAME"], "web");
    assert_eq!(e["SYSLOG_IDENTIFIER"], "web");
    assert_eq!(e["PRIORITY"], "6");
    assert_eq!(
        entries[3]["PRIORITY"], "3",
        "stderr lines have error priority"
    );
    assert_eq!(entries[4]["CONTAINER_PARTIAL_MESSAGE"], "true");
    let by_name = sb.ok(&format!(
        "journalctl --no-pager -o cat CONTAINER_NAME=web CONTAINER_ID={}",
        &id[..12]
    ));
    assert_eq!(by_name.lines().count(), 5);
}

/// journald limits each sending unit (10,000 lines per 30 s by default, scaled by free
/// space; a scope lost 15,000 of 50,000). mdrun sends from its own unit, which for a
/// service is configurable: this runs the sender the way units/mdrun@.service does, in a
/// service with LogRateLimitBurst=1000000 per 1 s (0 would mean the default), writing as
/// fast as it can.
#[test]
fn hundred_thousand_lines_all_arrive_in_order_and_read_back() {
    let guard = sandbox();
    let sb = guard.as_ref().unwrap();
    let id = random_id();
    let unit = format!("md-{}.scope", &id[..12]);
    let exe = std::env::current_exe().unwrap();
    let began = std::time::Instant::now();
    sb.ok(&format!(
        "systemd-run --quiet --wait --collect --pipe -p LogRateLimitIntervalSec=1s -p LogRateLimitBurst=1000000 \
         --setenv={HELPER_ENV}=journal '--setenv=MDRUN_SD_ARGS={id} {unit} 100000' \
         {} {} --exact --ignored --test-threads=1 >/dev/null",
        exe.display(),
        helper_name()
    ));
    eprintln!("100,000 lines sent in {:?}", began.elapsed());
    sb.ok("journalctl --sync");
    let count = sb.ok(&format!(
        "journalctl --no-pager -o cat -u {unit} | grep -c '^line '"
    ));
    assert_eq!(count.trim(), "100000");
    let out = sb.output_within(&mut helper_command(sb, "read", &[&id]));
    let summary = helper_line(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(
        summary, "100000 true no newline",
        "mdrun's reader: count, in order, last line"
    );
}

/// Bad input at the library level (ids are random, so a taken scope name cannot be arranged
/// through the binary): a scope name that exists is refused without touching the running
/// scope, and a property systemd refuses (PIDs of a process that is gone) fails cleanly;
/// neither leaves a unit or a cgroup.
#[test]
fn a_taken_scope_name_and_a_refused_property_fail_cleanly() {
    let guard = sandbox();
    let sb = guard.as_ref().unwrap();
    let id = random_id();
    let unit = format!("md-{}.scope", &id[..12]);
    let other = format!("md-{}.scope", &other_id(&id)[..12]);
    let mut child = helper_command(sb, "refused", &[&id])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut out = String::new();
    while !out.contains("HELPER2: ") {
        let mut line = String::new();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "the helper ended early:\n{out}"
        );
        out += &line;
    }
    let exists = helper_line(&out);
    assert!(
        exists.contains(&unit) && exists.contains("already exists"),
        "{exists}"
    );
    let refused = out
        .lines()
        .find_map(|l| l.split_once("HELPER2: ").map(|(_, r)| r.to_string()))
        .unwrap();
    assert!(
        refused.contains(&other) && refused.contains("refused"),
        "{refused}"
    );
    // The first scope runs on, with its one process; the refused ones left nothing.
    assert_eq!(sb.unit_property(&unit, "ActiveState"), "active");
    let procs = sb.ok(&format!(
        "cat /sys/fs/cgroup/memory/machine.slice/{unit}/mdrun-{id}/cgroup.procs"
    ));
    assert_eq!(procs.split_whitespace().count(), 1, "{procs}");
    assert_eq!(sb.unit_property(&other, "LoadState"), "not-found");
    assert_eq!(
        sb.ok("find /sys/fs/cgroup -name 'md-f*' | wc -l").trim(),
        "0"
    );
    drop(child.stdin.take());
    let mut rest = String::new();
    let _ = std::io::Read::read_to_string(&mut reader, &mut rest);
    assert!(child.wait().unwrap().success(), "helper failed:\n{rest}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while sb.unit_property(&unit, "LoadState") != "not-found" {
        assert!(std::time::Instant::now() < deadline, "{unit} still there");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
