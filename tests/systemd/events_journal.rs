//! `mdrun events --journal`: the journal's copy of the events, read back against the
//! private systemd: the same events as events.log, this store's containers only (two
//! stores share the sandbox's journal), filtered, and followed as they happen.

use crate::common::busybox_tarball;
use crate::sandbox;
use crate::sandbox::Mdrun;

/// `events ARGS --since 0 --until <now + 1 s> --format json` after a journal sync.
fn json_lines(md: &Mdrun, args: &str) -> Vec<serde_json::Value> {
    md.sb.ok("journalctl --sync");
    md.ok(&format!(
        "events {args} --since 0 --until $(($(date +%s) + 1)) --format json"
    ))
    .lines()
    .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
    .collect()
}

fn actions_of(events: &[serde_json::Value], name: &str) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["Actor"]["Attributes"]["name"] == name)
        .map(|e| e["Action"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn events_journal_reads_this_stores_events_back_from_the_journal() {
    let guard = sandbox::shared();
    let sb = guard.as_ref().unwrap();
    let a = Mdrun::new(sb, busybox_tarball(), "");
    let b = Mdrun::new(sb, busybox_tarball(), "");
    let tag = &a.dir[a.dir.len() - 4..];
    let (one, two) = (format!("one{tag}"), format!("two{tag}"));
    let run = |md: &Mdrun, name: &str| {
        md.sh(&format!(
            "run --name {name} --cgroup-manager systemd busybox sh -c 'exit 3'"
        ))
    };
    assert_eq!(run(&a, &one).status.code(), Some(3));
    assert_eq!(run(&b, &two).status.code(), Some(3));

    let journal = json_lines(&a, "--journal");
    assert_eq!(actions_of(&journal, &one), ["create", "start", "die"]);
    // The other store's container is in the same journal, not in this store's events.
    assert!(actions_of(&journal, &two).is_empty(), "{journal:?}");
    assert_eq!(actions_of(&json_lines(&b, "--journal"), &two).len(), 3);
    // Event for event what events.log has, attributes and time included.
    assert_eq!(journal, json_lines(&a, ""));
    let die = &journal[2];
    assert_eq!(die["Actor"]["Attributes"]["exitCode"], "3", "{die}");
    let only_die = json_lines(&a, "--journal -f event=die");
    assert_eq!(actions_of(&only_die, &one), ["die"]);

    // Followed: what reaches the journal after the start (given as --since, so that no
    // event can come before the reader is there), until interrupted.
    let three = format!("three{tag}");
    let out = format!("{}/follow.out", a.dir);
    let pid = sb.ok(&format!(
        "{} --journal --since $(date +%s) -f container={three} --format '{{{{.Action}}}} {{{{.Actor.Attributes.name}}}}' >{out} 2>&1 </dev/null & echo $!",
        a.line("events")
    ));
    let pid = pid.trim();
    assert_eq!(run(&a, &three).status.code(), Some(3));
    a.wait_for(30, "the die event of the new container", || {
        sb.ok(&format!("cat {out}"))
            .contains(&format!("die {three}"))
    });
    sb.ok(&format!(
        "kill {pid}; while kill -0 {pid} 2>/dev/null; do sleep 0.05; done"
    ));
    let seen = sb.ok(&format!("cat {out}"));
    assert_eq!(
        seen.lines().collect::<Vec<_>>(),
        [
            format!("create {three}"),
            format!("start {three}"),
            format!("die {three}")
        ],
        "{seen}"
    );
}
