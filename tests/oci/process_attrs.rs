//! linux.personality, process.ioPriority and process.scheduler, read back from inside the
//! container.

use crate::common::TestEnv;
use crate::util::Oci;
use serde_json::json;

#[test]
fn personality_and_io_priority_are_applied() {
    let env = TestEnv::bare();
    let o = Oci::new(&env, &["sh", "-c", "uname -m; ionice -p $$"]);
    o.edit(|c| {
        c["linux"]["personality"] = json!({"domain": "LINUX32"});
        c["process"]["ioPriority"] = json!({"class": "IOPRIO_CLASS_IDLE", "priority": 0});
    });
    let r = o.oci(&["run", "a1"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    if std::env::consts::ARCH == "x86_64" {
        assert_eq!(lines.first(), Some(&"i686"), "{}", r.stdout);
    }
    assert!(
        lines.get(1).is_some_and(|l| l.starts_with("idle")),
        "{}",
        r.stdout
    );
    o.edit(|c| c["process"]["ioPriority"] = json!({"class": "IOPRIO_CLASS_BE", "priority": 9}));
    let r = o.oci(&["create", "a2"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("ioPriority"), "{}", r.stderr);
    assert!(!o.root.join("a2").exists());
}

#[test]
fn the_scheduler_policy_and_nice_value_are_applied() {
    let env = TestEnv::bare();
    // Fields 19 and 41 of /proc/self/stat: nice and policy (SCHED_BATCH is 3).
    let o = Oci::new(&env, &["sh", "-c", "cut -d' ' -f19,41 /proc/self/stat"]);
    o.edit(|c| c["process"]["scheduler"] = json!({"policy": "SCHED_BATCH", "nice": 7}));
    let r = o.oci(&["run", "s1"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.trim(), "7 3", "{}", r.stdout);
    o.edit(|c| c["process"]["scheduler"] = json!({"policy": "SCHED_OTHER", "nice": 40}));
    let r = o.oci(&["create", "s2"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("nice 40"), "{}", r.stderr);
    assert!(!o.root.join("s2").exists());
}
