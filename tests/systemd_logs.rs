//! Container output in journald, end to end through `mdrun`, and `mdrun@.service` as a
//! Type=notify service, against a private systemd (tests/common/systemd.rs).

mod common;
#[path = "common/systemd.rs"]
mod sandbox;

use common::busybox_tarball;
use sandbox::{Mdrun, MDRUN};
use std::time::{Duration, Instant};

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn journal_json(md: &Mdrun, filter: &str) -> Vec<serde_json::Value> {
    md.sb.ok("journalctl --sync");
    md.sb
        .ok(&format!("journalctl --no-pager -o json {filter}"))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn messages(entries: &[serde_json::Value]) -> Vec<(String, String)> {
    entries
        .iter()
        .map(|e| {
            (
                e["MESSAGE"].as_str().unwrap_or("?").to_string(),
                e["PRIORITY"].as_str().unwrap_or("?").to_string(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

fn id_of(md: &Mdrun, name: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(&md.ok(&format!("inspect {name}"))).unwrap();
    v[0]["id"].as_str().unwrap().to_string()
}

#[test]
fn output_reaches_journald_in_every_mode_and_mdrun_logs_reads_it_back() {
    let guard = sandbox::shared();
    let sb = guard.as_ref().unwrap();
    let md = Mdrun::new(sb, busybox_tarball(), "");
    // The pauses keep stdout and stderr (two pipes) in a known order.
    let script = "echo out1; sleep 0.2; echo err1 >&2; sleep 0.2; echo out2";
    let flags = "--cgroup-manager systemd --log-driver journald";
    // Names of their own: the sandbox's journal is shared by this binary's tests.
    let tag = &md.dir[md.dir.len() - 4..];
    let (web, att, tty) = (
        format!("web{tag}"),
        format!("att{tag}"),
        format!("tty{tag}"),
    );

    // Detached.
    md.ok(&format!(
        "run -d --name {web} {flags} busybox sh -c '{script}'"
    ));
    assert_eq!(md.ok(&format!("wait {web}")).trim(), "0");
    let id = id_of(&md, &web);
    let expected = pairs(&[("out1", "6"), ("err1", "3"), ("out2", "6")]);
    let by_unit = journal_json(&md, &format!("-u md-{}.scope", &id[..12]));
    assert_eq!(messages(&by_unit), expected);
    let by_name = journal_json(&md, &format!("CONTAINER_NAME={web}"));
    assert_eq!(messages(&by_name), expected);
    for e in &by_name {
        assert_eq!(e["CONTAINER_ID"], id[..12]);
        assert_eq!(e["CONTAINER_ID_FULL"], id);
        assert_eq!(e["SYSLOG_IDENTIFIER"], web.as_str());
    }
    let logs = md.sh(&format!("logs {web}"));
    assert_eq!(String::from_utf8_lossy(&logs.stdout), "out1\nout2\n");
    assert_eq!(stderr(&logs), "err1\n");

    // Attached: on the terminal as well as in the journal.
    let out = md.sh(&format!(
        "run --name {att} {flags} busybox sh -c '{script}'"
    ));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "out1\nout2\n");
    assert_eq!(stderr(&out), "err1\n");
    let id = id_of(&md, &att);
    assert_eq!(
        messages(&journal_json(&md, &format!("-u md-{}.scope", &id[..12]))),
        expected
    );
    assert_eq!(
        messages(&journal_json(&md, &format!("CONTAINER_NAME={att}"))),
        expected
    );
    assert_eq!(
        String::from_utf8_lossy(&md.sh(&format!("logs {att}")).stdout),
        "out1\nout2\n"
    );

    // Attached with a terminal (script(1) gives mdrun one): one stream, info priority.
    let out = sb.sh(&format!(
        "script -qec \"{}\" /dev/null",
        md.line(&format!(
            "run -t --name {tty} {flags} busybox sh -c 'echo t1; echo t2 >&2'"
        ))
    ));
    assert!(out.status.success(), "{}", stderr(&out));
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        shown.contains("t1\r") && shown.contains("t2\r"),
        "{shown:?}"
    );
    // The terminal's "\r\n" does not reach the journal ("[N blob data]" otherwise).
    let tty_lines = messages(&journal_json(&md, &format!("CONTAINER_NAME={tty}")));
    assert_eq!(tty_lines, pairs(&[("t1", "6"), ("t2", "6")]));

    md.ok(&format!("rm {web} {att} {tty}"));
}

/// 100,000 lines as fast as the container can write them, twice:
/// - from a sender outside any unit (a shell that is not in a session): journald has them all;
/// - from a sender inside a scope, as a login session is: journald's per-unit rate limit
///   drops lines there (the admin's policy, left alone), and `mdrun logs` still shows all of
///   them, in order, from the journald driver's local copy.
#[test]
fn hundred_thousand_lines_are_all_in_mdrun_logs_even_when_journald_rate_limits() {
    let guard = sandbox::shared();
    let sb = guard.as_ref().unwrap();
    let md = Mdrun::new(sb, busybox_tarball(), "");
    let run = "run -d --cgroup-manager systemd --log-driver journald";
    for (name, prefix) in [
        ("free", String::new()),
        (
            "session",
            "systemd-run --quiet --scope --unit=session-test.scope ".to_string(),
        ),
    ] {
        let began = Instant::now();
        sb.ok(&format!(
            "{prefix}{}",
            md.line(&format!("{run} --name {name} busybox seq 1 100000"))
        ));
        assert_eq!(md.ok(&format!("wait {name}")).trim(), "0");
        let took = began.elapsed();
        let id = id_of(&md, name);
        sb.ok("journalctl --sync");
        let in_journal: usize = sb
            .ok(&format!(
                "journalctl --no-pager -o cat CONTAINER_ID_FULL={id} | wc -l"
            ))
            .trim()
            .parse()
            .unwrap();
        let logs = md.ok(&format!("logs {name}"));
        let expected: String = (1..=100_000).map(|i| format!("{i}\n")).collect();
        eprintln!(
            "{name}: 100,000 lines in {took:?}; journald kept {in_journal}, mdrun logs {}",
            logs.lines().count()
        );
        assert!(
            logs == expected,
            "mdrun logs {name}: not all 100,000 lines in order"
        );
        if name == "free" {
            assert_eq!(in_journal, 100_000, "no unit, no rate limit");
            let first_last = sb.ok(&format!(
                "journalctl --no-pager -o cat CONTAINER_ID_FULL={id} | sed -n '1p;$p'"
            ));
            assert_eq!(first_last, "1\n100000\n");
        }
        md.ok(&format!("rm {name}"));
    }
}

/// units/mdrun@.service, installed as a user would: `systemctl start mdrun@web` returns
/// once the container runs (READY=1), its limits hold, its output is in the journal, a dead
/// container is restarted, and `systemctl stop` leaves nothing.
#[test]
fn mdrun_at_web_is_a_notify_service_that_restarts_and_stops_cleanly() {
    let guard = sandbox::shared();
    let sb = guard.as_ref().unwrap();
    // The unit runs /usr/local/bin/mdrun with the default config file: install both in the
    // sandbox (its root is an overlay: nothing reaches the host).
    let md = Mdrun::new(sb, busybox_tarball(), "");
    let unit_file = concat!(env!("CARGO_MANIFEST_DIR"), "/units/mdrun@.service");
    sb.ok(&format!(
        "mkdir -p /usr/local/bin /etc/mdrun/containers && cp {MDRUN} /usr/local/bin/mdrun && \
         cp {unit_file} /etc/systemd/system/ && cp {} /etc/mdrun/mdrun.toml && \
         systemctl daemon-reload",
        md.config
    ));
    sb.ok(r#"cat > /etc/mdrun/containers/web.toml <<'EOF'
image = "busybox"
command = "echo web-started; trap 'echo web-stopping; exit 0' TERM; sleep 600 & wait"
[limits]
memory = "64m"
pids_limit = 32
EOF"#);
    let cleanup = scopeguard(sb);

    let began = Instant::now();
    sb.ok("systemctl start mdrun@web");
    eprintln!("systemctl start mdrun@web: {:?}", began.elapsed());
    assert_eq!(
        sb.unit_property("mdrun@web.service", "ActiveState"),
        "active"
    );
    // READY=1 came after the container ran: it is there now, no waiting.
    let id = md.ok("ps -q --no-trunc").trim().to_string();
    assert_eq!(id.len(), 64, "the container runs when start returns");
    let scope = format!("md-{}.scope", &id[..12]);
    assert_eq!(
        sb.unit_property(&scope, "MemoryMax"),
        (64u64 << 20).to_string()
    );
    assert_eq!(sb.unit_property(&scope, "TasksMax"), "32");
    let main_pid = sb.unit_property("mdrun@web.service", "MainPID");
    assert_eq!(
        sb.ok(&format!("cat /proc/{main_pid}/comm")).trim(),
        "mdrun",
        "the service's main process is mdrun, the supervisor"
    );
    // The service holds mdrun only; the container is in its own scope.
    let svc_procs = sb.ok("systemctl show -p ControlGroup --value mdrun@web.service");
    let svc_procs = sb.ok(&format!(
        "cat /sys/fs/cgroup/systemd{}/cgroup.procs",
        svc_procs.trim()
    ));
    assert_eq!(svc_procs.split_whitespace().count(), 1, "{svc_procs}");
    md.wait_for(10, "web-started in the journal", || {
        sb.ok("journalctl --sync; journalctl --no-pager -o cat -u mdrun@web")
            .contains("web-started")
    });
    assert!(sb
        .ok(&format!("journalctl --no-pager -o cat -u {scope}"))
        .contains("web-started"));

    // Kill the container's init: mdrun exits 137, Restart=on-failure starts a new one.
    let init: serde_json::Value = serde_json::from_str(&md.ok("inspect web")).unwrap();
    let pid = init[0]["pid"].as_i64().unwrap();
    sb.ok(&format!("kill -9 {pid}"));
    let mut new_id = String::new();
    md.wait_for(60, "a restarted container", || {
        new_id = md.ok("ps -q --no-trunc").trim().to_string();
        new_id.len() == 64 && new_id != id
    });
    assert_eq!(sb.unit_property("mdrun@web.service", "NRestarts"), "1");
    md.wait_for(30, "the old scope to go", || {
        sb.unit_property(&scope, "LoadState") == "not-found"
    });

    let began = Instant::now();
    sb.ok("systemctl stop mdrun@web");
    let took = began.elapsed();
    eprintln!("systemctl stop mdrun@web: {took:?}");
    assert!(
        took < Duration::from_secs(20),
        "within TimeoutStopSec: {took:?}"
    );
    assert_eq!(
        sb.unit_property("mdrun@web.service", "ActiveState"),
        "inactive"
    );
    assert!(sb
        .ok("journalctl --sync; journalctl --no-pager -o cat -u mdrun@web")
        .contains("web-stopping"));
    assert_eq!(md.ok("ps -aq").trim(), "", "--rm: nothing on record");
    assert_eq!(md.leftovers(), "");
    assert_eq!(sb.ok("pgrep -c 'sleep|mdrun' || true").trim(), "0");
    drop(cleanup);
}

/// Stops and removes the installed service even when the test fails half-way.
struct ServiceCleanup<'a>(&'a sandbox::Sandbox);

fn scopeguard(sb: &sandbox::Sandbox) -> ServiceCleanup<'_> {
    ServiceCleanup(sb)
}

impl Drop for ServiceCleanup<'_> {
    fn drop(&mut self) {
        let _ = self.0.sh(
            "systemctl stop mdrun@web; systemctl reset-failed 'mdrun@*' 'md-*' 2>/dev/null; \
             rm -f /etc/systemd/system/mdrun@.service /etc/mdrun/mdrun.toml \
             /etc/mdrun/containers/web.toml; systemctl daemon-reload",
        );
    }
}
