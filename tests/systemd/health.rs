//! Healthchecks against the private systemd: `--health-cmd` run every interval by a
//! transient timer `md-<id>-health.timer` (podman's way) through `mdrun healthcheck run`,
//! the result in the record (inspect's `State.Health`), `ps` showing it, transitions logged as
//! `health_status` events in the journal, and the timer gone with the container.

use crate::common::busybox_tarball;
use crate::sandbox;
use crate::sandbox::Mdrun;

fn health(md: &Mdrun, name: &str) -> serde_json::Value {
    let text = md.ok(&format!("inspect {name}"));
    let all: serde_json::Value = serde_json::from_str(&text).unwrap();
    all[0]["State"]["Health"].clone()
}

#[test]
fn a_failing_health_command_turns_the_container_unhealthy() {
    let guard = sandbox::shared();
    let sb = guard.as_ref().unwrap();
    let md = Mdrun::new(sb, busybox_tarball(), "");
    let id = md
        .ok(
            "run -d --name doc --cgroup-manager systemd --health-cmd 'test -f /tmp/ok' \
             --health-interval 1s --health-retries 2 \
             busybox sh -c 'touch /tmp/ok; exec sleep 300'",
        )
        .trim()
        .to_string();
    let timer = format!("md-{}-health.timer", &id[..12]);
    assert_eq!(sb.unit_property(&timer, "ActiveState"), "active");
    md.wait_for(60, "ps to show the container healthy", || {
        md.ok("ps").contains("(healthy)")
    });
    assert_eq!(health(&md, "doc")["Status"], "healthy");

    md.ok("exec doc rm /tmp/ok");
    md.wait_for(60, "ps to show the container unhealthy", || {
        md.ok("ps").contains("(unhealthy)")
    });
    let h = health(&md, "doc");
    assert_eq!(h["Status"], "unhealthy", "{h}");
    assert!(h["FailingStreak"].as_u64().unwrap() >= 2, "{h}");
    let log = h["Log"].as_array().unwrap();
    assert!(!log.is_empty() && log.len() <= 5, "{h}");
    assert_eq!(log.last().unwrap()["ExitCode"], 1, "{h}");
    assert!(log.last().unwrap()["Start"]
        .as_str()
        .unwrap()
        .ends_with('Z'));

    // By hand: exit 1 while failing, 0 (and healthy again) once the file is back.
    let out = md.sh("healthcheck run doc");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    md.ok("exec doc touch /tmp/ok");
    let out = md.sh("healthcheck run doc");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(health(&md, "doc")["Status"], "healthy");

    // Each transition is an event in the journal.
    let events = sb.ok(&format!(
        "journalctl -o cat MDRUN_EVENT=health_status MDRUN_ID={id} --output-fields=MDRUN_HEALTH -o export | grep ^MDRUN_HEALTH="
    ));
    let seen: Vec<&str> = events.lines().collect();
    assert!(
        seen.windows(2)
            .any(|w| w == ["MDRUN_HEALTH=healthy", "MDRUN_HEALTH=unhealthy"]),
        "{events}"
    );

    // The timer goes with the container.
    md.ok("stop doc");
    md.wait_for(30, "the health timer to go", || {
        sb.unit_property(&timer, "LoadState") == "not-found"
    });
    let out = md.sh("healthcheck run doc");
    assert_eq!(out.status.code(), Some(125));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not running"));
}

#[test]
fn no_healthcheck_and_bad_health_options() {
    let guard = sandbox::shared();
    let sb = guard.as_ref().unwrap();
    let md = Mdrun::new(sb, busybox_tarball(), "");
    let out = md.sh("run -d --health-cmd true --health-interval soon busybox true");
    assert_eq!(out.status.code(), Some(125));
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(err.contains("--health-interval"), "{err}");
    let out = md.sh("run -d --no-healthcheck --health-cmd true busybox true");
    assert_eq!(out.status.code(), Some(125));
    assert_eq!(md.ok("ps -aq").trim(), "", "nothing recorded");
    // Without a check, `healthcheck run` says so.
    md.ok("run -d --name plain busybox sleep 300");
    let out = md.sh("healthcheck run plain");
    assert_eq!(out.status.code(), Some(125));
    assert!(String::from_utf8_lossy(&out.stderr).contains("has no healthcheck"));
    assert!(md.ok("ps").contains("Up "));
    assert!(!md.ok("ps").contains("health"));
}

/// The image's HEALTHCHECK (kept in its config by `load` and `pull`) runs without any
/// `--health-*` flag, with its own interval and retries; `--no-healthcheck` turns it off.
#[test]
fn the_images_healthcheck_runs_unless_turned_off() {
    use crate::common::oci_layout::{self, layer, Comp, Image};
    let guard = sandbox::shared();
    let sb = guard.as_ref().unwrap();
    let md = Mdrun::new(sb, busybox_tarball(), "");
    let dir = tempfile::tempdir().unwrap();
    let image = Image {
        layers: vec![layer(
            &std::fs::read(busybox_tarball()).unwrap(),
            Comp::Plain,
        )],
        run: serde_json::json!({
            "Cmd": ["sleep", "300"],
            "Healthcheck": {"Test": ["CMD-SHELL", "echo checked; exit 3"], "Interval": 1_000_000_000u64, "Retries": 1},
        }),
        arch: "amd64",
    };
    let layout = dir.path().join("layout");
    oci_layout::write_single(&layout, &image, "hc:1");
    let archive = dir.path().join("hc.tar");
    let tar = std::process::Command::new("tar")
        .arg("-C")
        .arg(&layout)
        .arg("-cf")
        .arg(&archive)
        .arg(".")
        .status()
        .unwrap();
    assert!(tar.success());
    let out = sb.output_within(
        sb.command(&["sh", "-c", &md.line("load")])
            .stdin(std::fs::File::open(&archive).unwrap()),
    );
    assert!(out.status.success(), "{out:?}");
    let images = md.ok("images");
    let reference = if images.contains("localhost/hc") {
        "localhost/hc:1"
    } else {
        "hc:1"
    };

    let id = md
        .ok(&format!(
            "run -d --name img --cgroup-manager systemd {reference}"
        ))
        .trim()
        .to_string();
    md.wait_for(60, "the image's check to make it unhealthy", || {
        md.ok("ps").contains("(unhealthy)")
    });
    let h = health(&md, "img");
    let last = h["Log"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["ExitCode"], 3, "{h}");
    assert_eq!(last["Output"], "checked\n", "{h}");

    md.ok(&format!(
        "run -d --name off --no-healthcheck --cgroup-manager systemd {reference}"
    ));
    assert!(health(&md, "off").is_null());
    let off = md.ok("inspect off");
    assert!(
        !off.contains("Healthcheck") && !off.contains("healthcheck"),
        "{off}"
    );
    let ps = md.ok("ps");
    let line = ps
        .lines()
        .find(|l| l.split_whitespace().any(|w| w == "off"));
    assert!(
        line.is_some_and(|l| l.contains("Up ") && !l.contains("health")),
        "{ps}"
    );
    md.ok("rm -f img off");
    md.wait_for(30, "the timer to go", || {
        sb.unit_property(&format!("md-{}-health.timer", &id[..12]), "LoadState") == "not-found"
    });
}
