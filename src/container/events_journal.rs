//! The journal's copy of the events (`mdrun events --journal`): under systemd every event
//! is also a journal entry (`container::events`), with the event's JSON line in
//! `MDRUN_JSON` beside the `MDRUN_EVENT`, `MDRUN_ID`, `MDRUN_NAME` fields. This reads them
//! back through `journalctl -o json` (the journal's stable reading interface, as
//! `logs/read.rs` does), keeping this store's containers only: a container id ends in its
//! store's id (`state::StoreId`), and one made before stores had ids counts when this
//! store has its record.
//!
//! `events.log` stays what plain `mdrun events` reads: it has every event in both cgroup
//! managers, while journald drops entries past its per-unit rate limit (the events are
//! sent from whatever unit the calling `mdrun` runs in) and forgets them as it rotates.

use super::events::{Actor, Event};
use crate::error::{Error, IoContext, Result};
use crate::state::{Record, StoreId};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

/// Which journal entries to ask journalctl for.
pub struct Query<'a> {
    /// Unix seconds.
    pub since: Option<f64>,
    pub until: Option<f64>,
    /// `MDRUN_EVENT=` values (any of them); empty: every action.
    pub actions: &'a [String],
}

/// This store's events in the journal after `cursor` (or from `query.since`), oldest
/// first, and the cursor of the last entry read (None when there was none).
pub fn read(
    containers_dir: &Path,
    query: &Query,
    cursor: Option<&str>,
) -> Result<(Vec<Event>, Option<String>)> {
    let root = containers_dir.parent().unwrap_or(containers_dir);
    let store = StoreId::read(root);
    let known: BTreeSet<String> = Record::list(containers_dir)
        .into_iter()
        .map(|r| r.id)
        .collect();
    let ours = |id: &str| store.as_ref().is_some_and(|s| s.made(id)) || known.contains(id);
    let mut cmd = Command::new("journalctl");
    cmd.args([
        "--no-pager",
        "-q",
        "-o",
        "json",
        "--output-fields=MDRUN_JSON,MDRUN_EVENT,MDRUN_ID,MDRUN_NAME,MDRUN_IMAGE",
        "SYSLOG_IDENTIFIER=mdrun",
    ]);
    cmd.args(query.actions.iter().map(|a| format!("MDRUN_EVENT={a}")));
    match cursor {
        Some(c) => cmd.arg(format!("--after-cursor={c}")),
        None => cmd.arg(format!("--since=@{:.6}", query.since.unwrap_or(0.0))),
    };
    if let Some(u) = query.until {
        cmd.arg(format!("--until=@{u:.6}"));
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let out = cmd.output().ctx("run", "journalctl")?;
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr);
        return Err(Error::Io {
            step: "read the events with",
            path: "journalctl".into(),
            source: std::io::Error::other(format!("{}: {}", out.status, why.trim())),
        });
    }
    let mut events = Vec::new();
    let mut last = None;
    for line in BufReader::new(&out.stdout[..]).lines() {
        let Ok(line) = line else { break };
        let Some((event, c)) = parse(&line) else {
            continue;
        };
        last = Some(c);
        if let Some(e) = event.filter(|e| ours(&e.actor.id)) {
            events.push(e);
        }
    }
    Ok((events, last))
}

/// One `journalctl -o json` line: its event (None for an entry that is no event) and
/// its cursor.
fn parse(line: &str) -> Option<(Option<Event>, String)> {
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    let cursor = v.get("__CURSOR")?.as_str()?.to_string();
    let field = |k: &str| v.get(k).and_then(|x| x.as_str());
    let event = match (field("MDRUN_JSON"), field("MDRUN_EVENT"), field("MDRUN_ID")) {
        (Some(json), _, _) => serde_json::from_str(json).ok(),
        // An entry written before events carried their JSON: what its fields say.
        (None, Some(action), Some(id)) => {
            let usec: u128 = field("__REALTIME_TIMESTAMP")?.parse().ok()?;
            let mut attributes = BTreeMap::new();
            for (k, attr) in [("MDRUN_NAME", "name"), ("MDRUN_IMAGE", "image")] {
                attributes.insert(attr.to_string(), field(k).unwrap_or("").to_string());
            }
            Some(Event {
                kind: "container".into(),
                action: action.into(),
                actor: Actor {
                    id: id.into(),
                    attributes,
                },
                time: (usec / 1_000_000) as u64,
                time_nano: usec * 1000,
            })
        }
        _ => None,
    };
    Some((event, cursor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_gives_back_its_event_from_its_json_or_its_fields() {
        let json = r#"{"Type":"container","Action":"die","Actor":{"ID":"ab","Attributes":{"exitCode":"3","name":"web","image":"busybox"}},"time":1,"timeNano":1000000001}"#;
        let line = serde_json::json!({"__CURSOR": "c1", "MDRUN_JSON": json, "MDRUN_EVENT": "die"});
        let (e, c) = parse(&line.to_string()).unwrap();
        assert_eq!(c, "c1");
        let e = e.unwrap();
        assert_eq!(e.actor.attributes["exitCode"], "3");
        assert_eq!(e.time_nano, 1000000001);
        let old = serde_json::json!({"__CURSOR": "c2", "__REALTIME_TIMESTAMP": "2000000",
            "MDRUN_EVENT": "start", "MDRUN_ID": "cd", "MDRUN_NAME": "db"});
        let e = parse(&old.to_string()).unwrap().0.unwrap();
        assert_eq!((e.action.as_str(), e.time), ("start", 2));
        assert_eq!(e.actor.attributes["name"], "db");
        let other = serde_json::json!({"__CURSOR": "c3", "MESSAGE": "x"});
        assert_eq!(parse(&other.to_string()).unwrap(), (None, "c3".to_string()));
    }
}
