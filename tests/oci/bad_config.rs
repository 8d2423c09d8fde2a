//! A bad config.json: one error line in --log (JSON), exit 1, and nothing left behind (the
//! scenario's leftover check looks for cgroups, mounts and processes).

use crate::common::TestEnv;
use crate::util::Oci;

fn refused(o: &Oci, id: &str, want: &str) {
    let log = o.env.path(&format!("{id}.log"));
    let r = o.oci(&[
        "--log",
        log.to_str().unwrap(),
        "--log-format",
        "json",
        "create",
        id,
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "{text}");
    let line: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(line["level"], "error");
    assert!(line["msg"].as_str().unwrap().contains(want), "{text}");
    assert!(!o.root.join(id).exists(), "state directory left for {id}");
}

#[test]
fn bad_configs_leave_nothing() {
    let env = TestEnv::bare();
    let o = Oci::new(&env, &["true"]);
    let good = o.config();
    o.edit(|c| c["process"]["capabilities"]["bounding"] = serde_json::json!(["CAP_NOT_A_CAP"]));
    refused(&o, "b1", "config.json");
    o.edit(|c| *c = good.clone());
    o.edit(|c| c["root"]["path"] = "../../outside".into());
    refused(&o, "b2", "root.path");
    o.edit(|c| *c = good.clone());
    o.edit(|c| c["process"]["args"] = 5.into());
    refused(&o, "b3", "parse");
    o.edit(|c| *c = good.clone());
    // A resource the cgroup refuses: the cgroup made for it is removed again.
    o.edit(|c| c["linux"]["resources"] = serde_json::json!({"cpu": {"cpus": "4096"}}));
    refused(&o, "b4", "cpuset.cpus");
    o.edit(|c| *c = good.clone());
    // Device rules v1 cannot keep (a hole in a wildcard), refused on v2 too, before
    // anything is made.
    o.edit(|c| {
        c["linux"]["resources"] = serde_json::json!({"devices": [
            {"allow": false, "access": "rwm"},
            {"allow": true, "type": "c", "access": "rwm"},
            {"allow": false, "type": "c", "major": 1, "minor": 3, "access": "w"}]})
    });
    refused(&o, "b5", "punch a hole");
}
