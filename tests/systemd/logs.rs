//! Container output in journald, end to end through `mdrun`, and `mdrun@.service` as a
//! Type=notify service, against a private systemd (tests/common/systemd.rs).

use crate::common::busybox_tarball;
use crate::sandbox;
use crate::sandbox::{Mdrun, MDRUN};
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
    v[0]["Id"].as_str().unwrap().to_string()
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

    // Detached with a terminal: the supervisor reads the terminal, journald gets its lines.
    let dtty = format!("dtty{tag}");
    md.ok(&format!(
        "run -d -t --name {dtty} {flags} busybox sh -c 'echo d1; echo d2 >&2'"
    ));
    assert_eq!(md.ok(&format!("wait {dtty}")).trim(), "0");
    let id = id_of(&md, &dtty);
    let expected = pairs(&[("d1", "6"), ("d2", "6")]);
    assert_eq!(
        messages(&journal_json(&md, &format!("-u md-{}.scope", &id[..12]))),
        expected
    );
    assert_eq!(
        messages(&journal_json(&md, &format!("CONTAINER_NAME={dtty}"))),
        expected
    );
    assert_eq!(
        String::from_utf8_lossy(&md.sh(&format!("logs {dtty}")).stdout).replace('\r', ""),
        "d1\nd2\n"
    );

    md.ok(&format!("rm {web} {att} {tty} {dtty}"));
}

/// 100,000 lines as fast as the container can write them, from wherever mdrun may run:
/// - outside any unit (a shell that is in no session): journald has no limit for it, and
///   mdrun sends natively;
/// - inside a scope, as in a login session, detached: journald's per-unit limit (10,000 per
///   30 s by default) applies to that scope, so mdrun's journal relay carries the lines;
/// - attached, as the main process of a service with journald's default limit: the same.
///
/// Every case: all 100,000 lines, in order, in `journalctl -u md-<id>.scope` and in
/// `mdrun logs`, and no relay or scope left.
#[test]
fn hundred_thousand_lines_all_reach_journald_and_mdrun_logs_in_order_wherever_mdrun_runs() {
    let guard = sandbox::shared();
    let sb = guard.as_ref().unwrap();
    let md = Mdrun::new(sb, busybox_tarball(), "");
    let flags = "--cgroup-manager systemd --log-driver journald";
    let expected: String = (1..=100_000).map(|i| format!("{i}\n")).collect();
    let tag = &md.dir[md.dir.len() - 4..];
    for case in ["free", "session", "service"] {
        let name = format!("{case}{tag}");
        let mdrun = md.line(&format!("run --name {name} {flags} busybox seq 1 100000"));
        let line = match case {
            "free" => mdrun.replacen(" run ", " run -d ", 1),
            "session" => format!(
                "systemd-run --quiet --scope --unit=session-{name}.scope {}",
                mdrun.replacen(" run ", " run -d ", 1)
            ),
            _ => format!(
                "systemd-run --quiet --wait --collect --unit=svc-{name}.service \
                 -p StandardOutput=null {mdrun}"
            ),
        };
        let began = Instant::now();
        sb.ok(&line);
        assert_eq!(md.ok(&format!("wait {name}")).trim(), "0");
        let took = began.elapsed();
        let id = id_of(&md, &name);
        let scope = format!("md-{}.scope", &id[..12]);
        sb.ok("journalctl --sync");
        let journal = sb.ok(&format!("journalctl --no-pager -o cat -u {scope}"));
        let sender = sb.ok(&format!(
            "journalctl --no-pager -n 1 -o json -u {scope} | grep -o '\"_SYSTEMD_UNIT\":\"[^\"]*\"' || echo none"
        ));
        let logs = md.ok(&format!("logs {name}"));
        eprintln!(
            "{case}: 100,000 lines in {took:?}; journalctl -u {scope}: {} lines (sender {}), mdrun logs: {}",
            journal.lines().count(),
            sender.trim(),
            logs.lines().count()
        );
        assert!(
            journal == expected,
            "{case}: journalctl -u {scope} has {} lines, not all 100,000 in order",
            journal.lines().count()
        );
        assert!(
            logs == expected,
            "{case}: mdrun logs: not all 100,000 lines in order"
        );
        assert_eq!(
            sb.unit_property(&format!("md-{}-log.service", &id[..12]), "LoadState"),
            "not-found",
            "{case}: the relay is gone when the container is"
        );
        md.ok(&format!("rm {name}"));
    }
    md.wait_for(30, "no md-* unit left", || md.leftovers().is_empty());
}

/// units/mdrun@.service, installed as a user would: `systemctl start mdrun@web` returns
/// once the container runs (READY=1), its limits hold, its output is in the journal, a dead
/// container is restarted, and `systemctl stop` leaves nothing.
#[test]
fn mdrun_at_web_is_a_notify_service_that_restarts_and_stops_cleanly() {
    let guard = sandbox::shared();
    let sb = guard.as_ref().unwrap();
    let md = Mdrun::new(sb, busybox_tarball(), "");
    install_web(sb, &md);
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
    let pid = init[0]["State"]["Pid"].as_i64().unwrap();
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

    // STOPPING=1 on stop: systemd logs every notification it takes at debug level (to the
    // journal, as UNIT=mdrun@web.service, for the time of the stop).
    let main_pid = sb.unit_property("mdrun@web.service", "MainPID");
    let (level, target) = (
        sb.ok("systemd-analyze log-level").trim().to_string(),
        sb.ok("systemd-analyze log-target").trim().to_string(),
    );
    sb.ok("systemd-analyze log-level debug && systemd-analyze log-target journal");
    let began = Instant::now();
    let stopped = sb.sh("systemctl stop mdrun@web");
    let took = began.elapsed();
    sb.ok(&format!(
        "systemd-analyze log-level {level} && systemd-analyze log-target {target}"
    ));
    assert!(stopped.status.success(), "{}", stderr(&stopped));
    let said = format!("Got notification message from PID {main_pid} (STOPPING=1)");
    let notes = sb.ok(
        "journalctl --sync; journalctl --no-pager -o cat -u mdrun@web.service \
         --grep 'notification message' || true",
    );
    assert!(
        notes.contains(&said),
        "{said:?} not in systemd's log:\n{notes}"
    );
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

/// mdrun itself SIGKILLed (the service's main process): the container dies with it
/// (PR_SET_PDEATHSIG) but its record stays "running" with the name `web`. The unit's
/// ExecStartPre (`mdrun rm -f %i`) clears that, so Restart=on-failure brings it back.
#[test]
fn mdrun_at_web_restarts_after_mdrun_itself_is_sigkilled() {
    let guard = sandbox::shared();
    let sb = guard.as_ref().unwrap();
    let md = Mdrun::new(sb, busybox_tarball(), "");
    install_web(sb, &md);
    let cleanup = scopeguard(sb);
    sb.ok("systemctl start mdrun@web");
    let id = md.ok("ps -q --no-trunc").trim().to_string();
    assert_eq!(id.len(), 64, "the container runs when start returns");
    let scope = format!("md-{}.scope", &id[..12]);
    let init: serde_json::Value = serde_json::from_str(&md.ok("inspect web")).unwrap();
    let init_pid = init[0]["State"]["Pid"].as_i64().unwrap();
    let main_pid = sb.unit_property("mdrun@web.service", "MainPID");
    assert_eq!(sb.ok(&format!("cat /proc/{main_pid}/comm")).trim(), "mdrun");

    sb.ok(&format!("kill -9 {main_pid}"));
    let mut new_id = String::new();
    md.wait_for(60, "mdrun@web to run a new container", || {
        new_id = md.ok("ps -q --no-trunc").trim().to_string();
        new_id.len() == 64
            && new_id != id
            && sb.unit_property("mdrun@web.service", "ActiveState") == "active"
    });
    assert_eq!(sb.unit_property("mdrun@web.service", "NRestarts"), "1");
    assert_ne!(
        sb.unit_property("mdrun@web.service", "MainPID"),
        main_pid,
        "a new mdrun"
    );
    // Nothing of the first run is left: its record, scope, init and cgroups.
    assert_eq!(
        md.ok("ps -aq --no-trunc").trim(),
        new_id,
        "one record, the new one"
    );
    md.wait_for(30, "the old scope to go", || {
        sb.unit_property(&scope, "LoadState") == "not-found"
    });
    let old_init = sb.ok(&format!(
        "test -e /proc/{init_pid} && cat /proc/{init_pid}/cmdline | tr '\\0' ' '; true"
    ));
    assert!(
        !old_init.contains("sleep 600"),
        "the old container's init is gone: {old_init}"
    );
    let cgroups = sb
        .ok(&format!(
            "find /sys/fs/cgroup -depth -name '*{}*'",
            &id[..12]
        ))
        .trim()
        .to_string();
    // Removed before the assertion, so that a failure here does not fail the next test.
    let _ = sb.sh(&format!(
        "find /sys/fs/cgroup -depth -name '*{}*' -exec rmdir {{}} +",
        &id[..12]
    ));
    assert_eq!(cgroups, "", "the old container's cgroups");
    sb.ok("systemctl stop mdrun@web");
    assert_eq!(md.ok("ps -aq").trim(), "", "--rm: nothing on record");
    md.wait_for(30, "no md-* unit left", || md.leftovers().is_empty());
    assert_eq!(sb.ok("pgrep -c 'sleep|mdrun' || true").trim(), "0");
    drop(cleanup);
}

/// units/mdrun@.service, /usr/local/bin/mdrun and /etc/mdrun/{mdrun.toml,containers/web.toml}
/// in the sandbox (its root is an overlay: nothing reaches the host), as install.sh puts
/// them; the config is `md`'s.
fn install_web(sb: &sandbox::Sandbox, md: &Mdrun) {
    // The unit runs /usr/local/bin/mdrun with the default config file: install both in the
    // sandbox (its root is an overlay: nothing reaches the host).
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
