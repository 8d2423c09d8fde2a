//! `--systemd-cgroup` against a private systemd (tests/common/systemd.rs): cgroupsPath
//! `slice:prefix:name` is the transient scope `prefix-name.scope` in `slice`, with the
//! container's init in it and config.json's memory limit on it; `delete` leaves no unit.
//! The bundle is made on the host; the sandbox's root is an overlay of ours, so it sees it.

use crate::common::TestEnv;
use crate::util::{Oci, OCI};

#[test]
fn systemd_cgroups_path_makes_a_scope_in_the_slice() {
    let env = TestEnv::bare();
    let o = Oci::new(&env, &["sleep", "1000"]);
    o.edit(|c| {
        c["linux"]["cgroupsPath"] = "system.slice:mdoci:s1".into();
        c["linux"]["resources"] = serde_json::json!({"memory": {"limit": 67108864}});
    });
    let guard = crate::sandbox::shared();
    let sb = guard.as_ref().unwrap();
    let root = "/run/mdrun-oci-test";
    let oci = format!("{OCI} --systemd-cgroup --root {root}");
    let b = o.bundle.display();
    sb.ok(&format!(
        "{oci} create --bundle {b} s1 </dev/null >/run/s1.out 2>&1 || {{ cat /run/s1.out; exit 1; }}"
    ));
    let run = || -> String { sb.ok(&format!("{oci} start s1 && {oci} state s1")) };
    let state: serde_json::Value = serde_json::from_str(&run()).unwrap();
    assert_eq!(state["status"], "running", "{state}");
    let pid = state["pid"].as_i64().unwrap();
    assert_eq!(sb.unit_property("mdoci-s1.scope", "ActiveState"), "active");
    assert_eq!(sb.unit_property("mdoci-s1.scope", "Slice"), "system.slice");
    let cg = sb.ok(&format!("cat /proc/{pid}/cgroup"));
    assert!(cg.contains("/system.slice/mdoci-s1.scope"), "{cg}");
    // v1: in the scope's cgroup in every hierarchy, those systemd does not manage too
    // (freezer, cpuset), as runc's joinCgroups does; `pause` freezes that freezer.
    for line in cg.lines().filter(|l| !l.starts_with("0::")) {
        assert!(line.ends_with("/system.slice/mdoci-s1.scope"), "{cg}");
    }
    let limit = sb.ok(&format!(
        "d=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ {{print $3}}' /proc/{pid}/cgroup); \
         cat /sys/fs/cgroup/memory$d/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup$(awk -F: '$1==0{{print $3}}' /proc/{pid}/cgroup)/memory.max"
    ));
    assert_eq!(limit.trim(), "67108864", "{cg}");
    sb.ok(&format!("{oci} delete --force s1"));
    let left = sb.ok(
        "systemctl list-units --all --plain --no-legend 'mdoci-*' | grep . ; \
         find /sys/fs/cgroup -name 'mdoci-s1.scope' | grep . ; true",
    );
    assert!(left.trim().is_empty(), "left: {left}");
    sb.ok(&format!("test ! -e {root}/s1"));
}

/// A slice that does not exist yet: runc's systemd driver lets systemd make it (and its
/// parents) and so does mdrun-oci. After delete the scope is gone and the slice is empty;
/// systemd leaves such an implicit slice active, as it does after runc 1.1.5's delete
/// (seen in this sandbox), so the test stops it.
#[test]
fn a_slice_that_does_not_exist_yet_is_made_by_systemd() {
    let env = TestEnv::bare();
    let o = Oci::new(&env, &["sleep", "1000"]);
    o.edit(|c| c["linux"]["cgroupsPath"] = "mdocinew-pod1.slice:mdoci:n1".into());
    let guard = crate::sandbox::shared();
    let sb = guard.as_ref().unwrap();
    let root = "/run/mdrun-oci-test-new";
    let oci = format!("{OCI} --systemd-cgroup --root {root}");
    let b = o.bundle.display();
    assert_eq!(
        sb.unit_property("mdocinew-pod1.slice", "ActiveState"),
        "inactive"
    );
    let made = sb.sh(&format!(
        "{oci} create --bundle {b} n1 </dev/null >/run/n1.out 2>&1 || {{ cat /run/n1.out; exit 1; }}"
    ));
    let out = String::from_utf8_lossy(&made.stdout).into_owned();
    let cleanup = || {
        let _ = sb.sh(&format!(
            "{oci} delete --force n1; systemctl stop mdocinew-pod1.slice mdocinew.slice; rm -rf {root}"
        ));
    };
    if !made.status.success() {
        cleanup();
        panic!("create in a slice that does not exist: {out}");
    }
    let state: serde_json::Value =
        serde_json::from_str(&sb.ok(&format!("{oci} start n1 && {oci} state n1"))).unwrap();
    let pid = state["pid"].as_i64().unwrap();
    assert_eq!(sb.unit_property("mdoci-n1.scope", "ActiveState"), "active");
    assert_eq!(
        sb.unit_property("mdoci-n1.scope", "Slice"),
        "mdocinew-pod1.slice"
    );
    let cg = sb.ok(&format!("cat /proc/{pid}/cgroup"));
    assert!(
        cg.contains("/mdocinew.slice/mdocinew-pod1.slice/mdoci-n1.scope"),
        "{cg}"
    );
    sb.ok(&format!("{oci} delete --force n1"));
    let left = sb.ok("systemctl list-units --all --plain --no-legend 'mdoci-*' | grep . ; true");
    assert!(left.trim().is_empty(), "left: {left}");
    let ctl = sb.unit_property("mdocinew-pod1.slice", "ControlGroup");
    let inside = sb.ok(&format!(
        "find /sys/fs/cgroup/unified{ctl} /sys/fs/cgroup/systemd{ctl} /sys/fs/cgroup{ctl} \
         -mindepth 1 -type d 2>/dev/null; true"
    ));
    assert!(inside.trim().is_empty(), "the slice is not empty: {inside}");
    cleanup();
}
