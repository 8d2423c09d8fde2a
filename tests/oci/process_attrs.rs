//! linux.personality and process.ioPriority, read back from inside the container.

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
