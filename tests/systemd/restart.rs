//! Restart policies against the private systemd: a detached container with `--restart`
//! runs under a transient service `md-<id>.service` whose supervisor exits as the policy
//! says, and systemd starts it again. Each test checks what systemd and the record say,
//! and (dropping `Mdrun`) that no unit or cgroup is left.

use crate::common::busybox_tarball;
use crate::sandbox;
use crate::sandbox::Mdrun;

fn inspect(md: &Mdrun, name: &str) -> serde_json::Value {
    let text = md.ok(&format!("inspect {name}"));
    let all: serde_json::Value = serde_json::from_str(&text).unwrap();
    all[0].clone()
}

fn restart_count(md: &Mdrun, name: &str) -> u64 {
    inspect(md, name)["RestartCount"].as_u64().unwrap()
}

fn service_of(id: &str) -> String {
    format!("md-{}.service", &id[..12])
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn always_restarts_a_container_that_exits_until_mdrun_stop() {
    let guard = sandbox::shared();
    let sb = guard.as_ref().unwrap();
    let md = Mdrun::new(sb, busybox_tarball(), "");
    let id = md
        .ok("run -d --restart always --name again --cgroup-manager systemd busybox sh -c 'sleep 1; exit 3'")
        .trim()
        .to_string();
    let unit = service_of(&id);
    assert_eq!(sb.unit_property(&unit, "Restart"), "on-failure");
    assert_eq!(sb.unit_property(&unit, "Type"), "notify");
    let record = inspect(&md, "again");
    assert_eq!(record["HostConfig"]["RestartPolicy"]["Name"], "always");
    // Between two runs, ps says so as docker does.
    md.wait_for(60, "ps to show the container restarting", || {
        md.ok("ps -a").contains("Restarting (3)")
    });
    md.wait_for(60, "two restarts", || restart_count(&md, "again") >= 2);
    // Restarting or running, it is not a stopped container: prune keeps it.
    md.ok("prune");
    assert_eq!(inspect(&md, "again")["Id"], id.as_str());
    // Each restart is an event in the journal.
    let events = sb.ok(&format!(
        "journalctl --sync; journalctl -o cat MDRUN_EVENT=restart MDRUN_ID={id}"
    ));
    assert!(events.lines().count() >= 2, "{events}");

    md.ok("stop again");
    // The service is gone: nothing is left to start it again.
    md.wait_for(30, "the service to go", || {
        sb.unit_property(&unit, "LoadState") == "not-found"
    });
    let record = inspect(&md, "again");
    assert_eq!(record["State"]["Status"], "exited", "{record}");
    assert_eq!(record["State"]["Restarting"], false);
    assert_eq!(record["Mdrun"]["stopped_by_user"], true);
    let ps = md.ok("ps -a");
    assert!(ps.contains("Exited ("), "{ps}");
    assert!(!ps.contains("Restarting"), "{ps}");
    let count = restart_count(&md, "again");
    assert!(count >= 2, "{count}");

    // `start` puts it under its service again; `rm -f` ends it for good.
    md.ok("start again");
    assert_eq!(sb.unit_property(&unit, "ActiveState"), "active");
    md.ok("rm -f again");
    md.wait_for(30, "the service to go after rm -f", || {
        sb.unit_property(&unit, "LoadState") == "not-found"
    });
}

#[test]
fn on_failure_2_stops_after_two_restarts() {
    let guard = sandbox::shared();
    let sb = guard.as_ref().unwrap();
    let md = Mdrun::new(sb, busybox_tarball(), "");
    let id = md
        .ok("run -d --restart on-failure:2 --name twice --cgroup-manager systemd busybox sh -c 'exit 5'")
        .trim()
        .to_string();
    let unit = service_of(&id);
    md.wait_for(60, "the restarts to end", || {
        let r = inspect(&md, "twice");
        r["State"]["Status"] == "exited"
            && r["State"]["Restarting"] == false
            && sb.unit_property(&unit, "LoadState") == "not-found"
    });
    let record = inspect(&md, "twice");
    assert_eq!(record["RestartCount"], 2, "{record}");
    assert_eq!(record["State"]["ExitCode"], 5, "{record}");
    assert!(md.ok("ps -a").contains("Exited (5)"));
}

#[test]
fn on_failure_does_not_restart_a_success() {
    let guard = sandbox::shared();
    let sb = guard.as_ref().unwrap();
    let md = Mdrun::new(sb, busybox_tarball(), "");
    let id = md
        .ok("run -d --restart on-failure --name fine --cgroup-manager systemd busybox true")
        .trim()
        .to_string();
    let unit = service_of(&id);
    md.wait_for(60, "the container to end and its service to go", || {
        inspect(&md, "fine")["State"]["Status"] == "exited"
            && sb.unit_property(&unit, "LoadState") == "not-found"
    });
    let record = inspect(&md, "fine");
    assert_eq!(record["RestartCount"], 0, "{record}");
    assert_eq!(record["State"]["Restarting"], false, "{record}");
    assert!(md.ok("ps -a").contains("Exited (0)"));
}

#[test]
fn restart_policies_need_systemd_and_leave_nothing() {
    let guard = sandbox::shared();
    let sb = guard.as_ref().unwrap();
    let md = Mdrun::new(sb, busybox_tarball(), "");
    let out = md.sh("run -d --restart always --cgroup-manager cgroupfs busybox true");
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("restart policies need systemd"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    for (args, says) in [
        ("--restart sometimes", "invalid restart policy"),
        ("--restart always:3", "only for on-failure"),
        ("--restart always --rm", "conflict"),
    ] {
        let out = md.sh(&format!("run -d {args} busybox true"));
        assert_eq!(out.status.code(), Some(125), "{args}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{args}: {}", stderr(&out));
    }
    let out = md.sh("run --restart always busybox true");
    assert_eq!(out.status.code(), Some(125));
    assert!(stderr(&out).contains("needs -d"), "{}", stderr(&out));
    assert_eq!(md.ok("ps -aq").trim(), "", "no container was recorded");
}

/// A reboot as systemd goes through it: every container's service is stopped by systemd
/// (not by `mdrun stop`), and transient units are gone afterwards. Then
/// units/mdrun-restart.service, installed as install.sh does, brings back `always` and
/// `unless-stopped` containers, but not one a user stopped, nor an `on-failure` one.
#[test]
fn always_and_unless_stopped_come_back_at_boot() {
    let guard = sandbox::shared();
    let sb = guard.as_ref().unwrap();
    let md = Mdrun::new(sb, busybox_tarball(), "");
    let flags = "-d --cgroup-manager systemd";
    let mut ids = std::collections::BTreeMap::new();
    for (name, policy) in [
        ("a", "always"),
        ("u", "unless-stopped"),
        ("s", "unless-stopped"),
        ("f", "on-failure"),
    ] {
        let id = md.ok(&format!(
            "run {flags} --restart {policy} --name {name} busybox sleep 300"
        ));
        ids.insert(name, id.trim().to_string());
    }
    md.ok("stop -t 1 s");
    for name in ["a", "u", "f"] {
        sb.ok(&format!("systemctl stop {}", service_of(&ids[name])));
    }
    for name in ["a", "u", "s", "f"] {
        assert_eq!(inspect(&md, name)["State"]["Status"], "exited", "{name}");
        assert_eq!(
            sb.unit_property(&service_of(&ids[name]), "LoadState"),
            "not-found"
        );
    }

    let unit = concat!(env!("CARGO_MANIFEST_DIR"), "/units/mdrun-restart.service");
    sb.ok(&format!(
        "mkdir -p /usr/local/bin /etc/systemd/system/mdrun-restart.service.d && \
         cp {} /usr/local/bin/mdrun && cp {unit} /etc/systemd/system/ && \
         printf '[Service]\\nEnvironment=MDRUN_CONFIG={}\\n' \
           > /etc/systemd/system/mdrun-restart.service.d/test.conf && \
         systemctl daemon-reload && systemctl start mdrun-restart.service",
        sandbox::MDRUN,
        md.config
    ));
    let started = sb.ok("journalctl --sync; journalctl -o cat -u mdrun-restart.service");
    let ps = md.ok("ps --format json");
    sb.ok(
        "systemctl stop mdrun-restart.service; rm -rf /etc/systemd/system/mdrun-restart.service* \
         && systemctl daemon-reload",
    );
    let running: Vec<String> = serde_json::from_str::<serde_json::Value>(&ps)
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["Name"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(running.len(), 2, "{ps}\n{started}");
    for name in ["a", "u"] {
        assert!(running.iter().any(|n| n == name), "{name}: {ps}\n{started}");
        assert_eq!(
            sb.unit_property(&service_of(&ids[name]), "ActiveState"),
            "active"
        );
    }
}

/// `mdrun restart`: stop, then start, with or without a policy (under its service again).
#[test]
fn restart_stops_and_starts_again() {
    let guard = sandbox::shared();
    let sb = guard.as_ref().unwrap();
    let md = Mdrun::new(sb, busybox_tarball(), "");
    let flags = "-d --cgroup-manager systemd";
    md.ok(&format!("run {flags} --name plain busybox sleep 300"));
    let id = md
        .ok(&format!(
            "run {flags} --restart always --name kept busybox sleep 300"
        ))
        .trim()
        .to_string();
    let pid = |name: &str| inspect(&md, name)["State"]["Pid"].as_i64().unwrap();
    let before = (pid("plain"), pid("kept"));
    assert_eq!(md.ok("restart -t 1 plain kept"), "plain\nkept\n");
    assert_ne!(pid("plain"), before.0);
    assert_ne!(pid("kept"), before.1);
    let kept = inspect(&md, "kept");
    assert_eq!(kept["State"]["Status"], "running");
    // A restart asked for is not one the policy made.
    assert_eq!(kept["RestartCount"], 0);
    assert_eq!(sb.unit_property(&service_of(&id), "ActiveState"), "active");
    let out = md.sh("restart nosuch");
    assert_eq!(out.status.code(), Some(125));
    assert!(
        stderr(&out).contains("no such container"),
        "{}",
        stderr(&out)
    );
}

/// A first start that fails (no such command) is not retried: `run -d` says so, and the
/// container, its service and its scope are gone.
#[test]
fn a_failing_first_start_is_not_retried_and_leaves_nothing() {
    let guard = sandbox::shared();
    let sb = guard.as_ref().unwrap();
    let md = Mdrun::new(sb, busybox_tarball(), "");
    let out =
        md.sh("run -d --restart always --name bad --cgroup-manager systemd busybox /no/such/cmd");
    assert_ne!(out.status.code(), Some(0));
    let err = stderr(&out);
    assert!(
        err.contains("did not start") && err.contains("journalctl -u md-"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert_eq!(md.ok("ps -aq").trim(), "", "the container was removed");
    md.wait_for(30, "no md-* unit left", || md.leftovers().is_empty());
}

#[test]
fn update_restart_changes_the_policy_of_a_supervised_or_stopped_container() {
    let guard = sandbox::shared();
    let sb = guard.as_ref().unwrap();
    let md = Mdrun::new(sb, busybox_tarball(), "");
    // Under its service: `update --restart no` and the restarts end at the next exit.
    let id = md
        .ok("run -d --restart always --name upd --cgroup-manager systemd busybox sh -c 'sleep 1; exit 3'")
        .trim()
        .to_string();
    md.wait_for(60, "a first restart", || restart_count(&md, "upd") >= 1);
    assert_eq!(md.ok("update --restart no upd"), "upd\n");
    assert_eq!(
        inspect(&md, "upd")["HostConfig"]["RestartPolicy"]["Name"],
        "no"
    );
    md.wait_for(60, "the service to end", || {
        sb.unit_property(&service_of(&id), "LoadState") == "not-found"
    });
    let record = inspect(&md, "upd");
    assert_eq!(record["State"]["Status"], "exited", "{record}");
    assert!(md.ok("ps -a").contains("Exited (3)"));
    // A running container without a policy (a scope, no service) cannot take one.
    md.ok("run -d --name plain --cgroup-manager systemd busybox sleep 1000");
    let out = md.sh("update --restart always plain");
    assert_eq!(out.status.code(), Some(125));
    let err = stderr(&out);
    assert!(
        err.contains("runs without a restart policy") && err.trim().lines().count() == 1,
        "{err}"
    );
    assert_eq!(
        inspect(&md, "plain")["HostConfig"]["RestartPolicy"]["Name"],
        "no"
    );
    // Stopped, it can: `start` puts it under its service.
    md.ok("stop -t 1 plain");
    assert_eq!(md.ok("update --restart on-failure:1 plain"), "plain\n");
    let policy = inspect(&md, "plain")["HostConfig"]["RestartPolicy"].clone();
    assert_eq!(policy["Name"], "on-failure", "{policy}");
    assert_eq!(policy["MaximumRetryCount"], 1, "{policy}");
    let plain = inspect(&md, "plain")["Id"].as_str().unwrap().to_string();
    md.ok("start plain");
    assert_eq!(
        sb.unit_property(&service_of(&plain), "ActiveState"),
        "active"
    );
    let bad = md.sh("update --restart sometimes plain");
    assert_eq!(bad.status.code(), Some(125));
    md.ok("rm -f upd plain");
    md.wait_for(30, "no md-* unit left", || md.leftovers().is_empty());
}
