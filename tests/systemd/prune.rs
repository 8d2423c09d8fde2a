//! Two stores (two mdrun roots) in one private systemd (tests/common/systemd.rs), each with
//! the default cgroup parent and slice: `prune` of one removes what its own killed runs
//! left, with both cgroup managers, and never stops a scope or kills a process of the other.

use crate::common::busybox_tarball;
use crate::sandbox;
use crate::sandbox::Mdrun;

/// `mdrun run --name NAME --cgroup-manager MANAGER busybox sleep 300` in `md`, stopped at
/// `step` (MDRUN_TEST_STOP_AT) and SIGKILLed there (its init, if any, dies with it). Returns
/// the container's id, from its record.
fn killed_at(md: &Mdrun, step: &str, name: &str, manager: &str) -> String {
    let run = md.line(&format!(
        "run --name {name} --cgroup-manager {manager} busybox sleep 300"
    ));
    md.sb.ok(&format!(
        "MDRUN_TEST_STOP_AT={step} {run} >/dev/null 2>&1 </dev/null &
         p=$!; i=0
         until [ \"$(cut -d' ' -f3 /proc/$p/stat)\" = T ]; do
           i=$((i+1)); [ $i -lt 600 ] || {{ echo never stopped >&2; exit 1; }}; sleep 0.05
         done
         kill -9 $p; wait $p; true"
    ));
    inspect(md, name)["Id"].as_str().unwrap().to_string()
}

fn inspect(md: &Mdrun, name: &str) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(&md.ok(&format!("inspect {name}"))).unwrap();
    v[0].clone()
}

/// Directories named `mdrun-<id>` anywhere in the cgroup trees, and units named after `id`.
fn traces(md: &Mdrun, id: &str) -> String {
    md.sb
        .ok(&format!(
            "find /sys/fs/cgroup -name 'mdrun-{id}'; \
             systemctl list-units --all --plain --no-legend 'md-{}*' | grep . ; true",
            &id[..12]
        ))
        .trim()
        .to_string()
}

#[test]
fn prune_leaves_another_stores_scopes_and_cgroups_alone() {
    let guard = sandbox::shared();
    let sb = guard.as_ref().unwrap();
    // Each checks, when dropped, that nothing of any mdrun is left in the sandbox: `b` goes
    // last, once `a` has removed its containers.
    let b = Mdrun::new(sb, busybox_tarball(), "");
    let a = Mdrun::new(sb, busybox_tarball(), "");
    let sd = a
        .ok("run -d --name sd --cgroup-manager systemd busybox sleep 300")
        .trim()
        .to_string();
    let fs = a
        .ok("run -d --name fs --cgroup-manager cgroupfs busybox sleep 300")
        .trim()
        .to_string();
    let scope = format!("md-{}.scope", &sd[..12]);
    assert_eq!(sb.unit_property(&scope, "ActiveState"), "active");

    // B's own leftovers: runs killed with their init placed, one per manager.
    let b_sd = killed_at(&b, "run:placed", "bsd", "systemd");
    let b_fs = killed_at(&b, "run:placed", "bfs", "cgroupfs");
    // And one killed right after its claim, whose record names a scope it never made. A
    // scope's name holds 12 hex digits of the id: make it one that A's container has (as two
    // ids that begin alike would), by editing the record.
    let clash = killed_at(&b, "run:claimed", "bclash", "systemd");
    let rec = format!("{}/root/containers/{clash}/container.json", b.dir);
    sb.ok(&format!(
        "sed -i 's/\"md-{}.scope\"/\"{scope}\"/' {rec} && grep -q '\"{scope}\"' {rec}",
        &clash[..12]
    ));

    let out = b.ok("prune");
    for id in [&b_sd, &b_fs, &clash] {
        assert!(out.contains(id.as_str()), "{id} not pruned:\n{out}");
    }
    assert!(
        !out.contains(&sd) && !out.contains(&fs),
        "B's prune reported A's containers:\n{out}"
    );
    // A's containers run on: their scope, their cgroups, their processes.
    assert_eq!(sb.unit_property(&scope, "ActiveState"), "active", "{out}");
    for name in ["sd", "fs"] {
        assert_eq!(
            inspect(&a, name)["State"]["Status"],
            "running",
            "{name}: {out}"
        );
        assert_eq!(a.ok(&format!("exec {name} echo alive")), "alive\n", "{out}");
    }
    // Nothing is left of B's containers.
    b.wait_for(15, "B's leftovers to go", || {
        [&b_sd, &b_fs, &clash]
            .iter()
            .all(|id| traces(&b, id).is_empty())
    });
    assert_eq!(b.ok("ps -aq").trim(), "");

    a.ok("rm -f sd fs");
}
