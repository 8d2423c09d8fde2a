//! `mdrun kill` of a container under a restart policy, as docker does it (moby
//! `daemon/kill.go`): SIGKILL, the stop signal, or any signal when the container has no
//! stop signal of its own, ends the restarts until the next `start`; another signal leaves
//! the policy in place.

use crate::common::busybox_tarball;
use crate::sandbox;
use crate::sandbox::Mdrun;

fn inspect(md: &Mdrun, name: &str) -> serde_json::Value {
    let all: serde_json::Value = serde_json::from_str(&md.ok(&format!("inspect {name}"))).unwrap();
    all[0].clone()
}

fn service_of(id: &str) -> String {
    format!("md-{}.service", &id[..12])
}

#[test]
fn kill_ends_the_restarts_of_an_always_container_and_start_brings_them_back() {
    let guard = sandbox::shared();
    let sb = guard.as_ref().unwrap();
    let md = Mdrun::new(sb, busybox_tarball(), "");
    // HUP ends it (exit 5) but is not its stop signal (USR1): the policy stays.
    let script = "trap \"exit 5\" HUP; while :; do sleep 0.1; done";
    let id = md
        .ok(&format!(
            "run -d --restart always --stop-signal USR1 --name k --cgroup-manager systemd busybox sh -c '{script}'"
        ))
        .trim()
        .to_string();
    let unit = service_of(&id);
    let running = |md: &Mdrun| inspect(md, "k")["State"]["Running"] == true;
    md.wait_for(60, "the container to run", || running(&md));
    md.ok("kill -s HUP k");
    md.wait_for(
        60,
        "a restart after a signal that is not the stop signal",
        || inspect(&md, "k")["RestartCount"] == 1 && running(&md),
    );

    // SIGKILL: it ends, and nothing starts it again (its service goes).
    md.ok("kill k");
    md.wait_for(60, "the service to go after kill", || {
        sb.unit_property(&unit, "LoadState") == "not-found"
    });
    let record = inspect(&md, "k");
    assert_eq!(record["State"]["Status"], "exited", "{record}");
    assert_eq!(record["State"]["ExitCode"], 137, "{record}");
    assert_eq!(record["RestartCount"], 1, "{record}");
    assert!(md.ok("ps -a").contains("Exited (137)"));

    // `start` puts the policy back: HUP restarts it again.
    md.ok("start k");
    md.wait_for(60, "the container to run again", || running(&md));
    md.ok("kill -s HUP k");
    md.wait_for(60, "a restart after start", || {
        inspect(&md, "k")["RestartCount"] == 2 && running(&md)
    });
    // Its stop signal also ends the restarts (sh ignores USR1 as PID 1: SIGKILL ends it).
    md.ok("kill -s USR1 k");
    md.ok("kill k");
    md.wait_for(60, "the service to go after the stop signal", || {
        sb.unit_property(&unit, "LoadState") == "not-found"
    });
    assert_eq!(inspect(&md, "k")["RestartCount"], 2);
    md.ok("rm k");
}

#[test]
fn kill_of_a_container_without_a_stop_signal_ends_restarts_for_any_signal() {
    let guard = sandbox::shared();
    let sb = guard.as_ref().unwrap();
    let md = Mdrun::new(sb, busybox_tarball(), "");
    let script = "trap \"exit 5\" HUP; while :; do sleep 0.1; done";
    let id = md
        .ok(&format!(
            "run -d --restart on-failure --name h --cgroup-manager systemd busybox sh -c '{script}'"
        ))
        .trim()
        .to_string();
    md.wait_for(60, "the container to run", || {
        inspect(&md, "h")["State"]["Running"] == true
    });
    md.ok("kill -s HUP h");
    md.wait_for(60, "the service to go", || {
        sb.unit_property(&service_of(&id), "LoadState") == "not-found"
    });
    let record = inspect(&md, "h");
    assert_eq!(record["State"]["ExitCode"], 5, "{record}");
    assert_eq!(record["RestartCount"], 0, "{record}");
    md.ok("rm h");
}
