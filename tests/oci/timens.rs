//! Time namespaces (runtime-spec 1.2): `linux.timeOffsets` shift the container's boottime
//! and monotonic clocks, for its init's process and for what `exec` starts in it.

use crate::common::TestEnv;
use crate::util::Oci;
use serde_json::json;

const YEAR: f64 = 31_536_000.0;

fn host_uptime() -> f64 {
    uptime(&std::fs::read_to_string("/proc/uptime").unwrap())
}

fn uptime(text: &str) -> f64 {
    text.split_whitespace().next().unwrap().parse().unwrap()
}

#[test]
fn boottime_offset_shifts_the_containers_uptime() {
    let env = TestEnv::bare();
    let o = Oci::new(&env, &["sh", "-c", "cat /proc/uptime; exec sleep 1000"]);
    o.edit(|c| {
        c["linux"]["namespaces"]
            .as_array_mut()
            .unwrap()
            .push(json!({"type": "time"}));
        c["linux"]["timeOffsets"] =
            json!({"boottime": {"secs": YEAR as i64}, "monotonic": {"secs": 5}});
    });
    o.ok(&["create", "t1"]);
    let before = host_uptime();
    o.ok(&["start", "t1"]);
    let ex = o.ok(&["exec", "t1", "cat", "/proc/uptime"]);
    let after = host_uptime();
    let inside = uptime(&ex);
    // The offset, give or take the time the exec took (never negative, bounded by it).
    assert!(
        inside - YEAR >= before - 1.0 && inside - YEAR <= after + 1.0,
        "inside {inside}, host {before}..{after}"
    );
    let s: serde_json::Value = serde_json::from_str(&o.ok(&["state", "t1"])).unwrap();
    let pid = s["pid"].as_i64().unwrap();
    assert_ne!(
        std::fs::read_link(format!("/proc/{pid}/ns/time")).unwrap(),
        std::fs::read_link("/proc/self/ns/time").unwrap()
    );
    let offsets = std::fs::read_to_string(format!("/proc/{pid}/timens_offsets")).unwrap();
    assert!(offsets.contains("31536000"), "{offsets}");
    o.ok(&["delete", "--force", "t1"]);
}

#[test]
fn time_offsets_without_a_time_namespace_are_refused() {
    let env = TestEnv::bare();
    let o = Oci::new(&env, &["true"]);
    o.edit(|c| c["linux"]["timeOffsets"] = json!({"boottime": {"secs": 10}}));
    let r = o.oci(&["create", "t2"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("needs a new time namespace"),
        "{}",
        r.stderr
    );
    assert!(!o.root.join("t2").exists());
}

/// With a user namespace too: the offsets are written before the init becomes the user
/// namespace's root (its /proc/self files are then no longer its own).
#[test]
fn a_time_namespace_inside_a_user_namespace() {
    let env = TestEnv::bare();
    let o = crate::userns::mapped(&env, &["sh", "-c", "id -u; cat /proc/uptime"]);
    o.edit(|c| {
        c["linux"]["namespaces"]
            .as_array_mut()
            .unwrap()
            .push(json!({"type": "time"}));
        c["linux"]["timeOffsets"] = json!({"boottime": {"secs": YEAR as i64}});
    });
    let before = host_uptime();
    let r = o.oci(&["run", "tu"]);
    let after = host_uptime();
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut lines = r.stdout.lines();
    assert_eq!(lines.next(), Some("0"), "{}", r.stdout);
    let inside = uptime(lines.next().unwrap_or_default());
    assert!(
        inside - YEAR >= before - 1.0 && inside - YEAR <= after + 1.0,
        "inside {inside}, host {before}..{after}"
    );
}
