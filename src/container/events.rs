//! What happened to containers (`mdrun events`): one event a lifecycle step (create,
//! start, die, oom, kill, stop, pause, unpause, rename, update, destroy), written as the
//! step happens, as docker's daemon publishes them.
//!
//! Each event is a JSON line appended to `<root>/events.log` (one `write` with O_APPEND:
//! lines from concurrent mdruns never interleave), which is what `mdrun events` reads,
//! with the cgroupfs manager and under systemd alike: it holds this store's containers
//! only. Under systemd the event also goes to the journal with the fields
//! `MDRUN_EVENT=<action>`, `MDRUN_ID=<full id>`, `MDRUN_NAME=<name>` (plus `MDRUN_IMAGE`,
//! the attributes, and the event's JSON line in `MDRUN_JSON`), so `journalctl
//! MDRUN_EVENT=die` lists them beside the container's own output and `mdrun events
//! --journal` reads them back (`events_journal.rs`). The log stays the source: journald
//! drops entries past its per-unit rate limit and rotates old ones away, and the cgroupfs
//! manager has no journal copy. Writing an event never fails the step: a full disk loses the event.
//!
//! The log is kept short: past 4 MiB it is renamed `events.log.1` (the previous one goes)
//! and a new one begins; `events` reads both.

use crate::state::{CgroupManager, Record};
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

const FILE: &str = "events.log";
const OLD: &str = "events.log.1";
const MAX_BYTES: u64 = 4 << 20;

/// One event, in docker's JSON shape.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Event {
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(rename = "Action")]
    pub action: String,
    #[serde(rename = "Actor")]
    pub actor: Actor,
    /// Unix seconds.
    pub time: u64,
    #[serde(rename = "timeNano")]
    pub time_nano: u128,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Actor {
    #[serde(rename = "ID")]
    pub id: String,
    /// `name`, `image`, and per action `exitCode`, `signal`, `oldName` ...
    #[serde(rename = "Attributes")]
    pub attributes: BTreeMap<String, String>,
}

impl Event {
    pub fn unix(&self) -> f64 {
        self.time_nano as f64 / 1e9
    }
}

/// The events log of the store whose containers live in `containers_dir`.
fn log_path(containers_dir: &Path) -> PathBuf {
    containers_dir.parent().unwrap_or(containers_dir).join(FILE)
}

/// Record `action` for the container `record`, with extra `attrs`.
pub fn emit(containers_dir: &Path, record: &Record, action: &str, attrs: &[(&str, String)]) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let mut attributes: BTreeMap<String, String> = attrs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    attributes.insert("name".into(), record.name.clone());
    attributes.insert("image".into(), record.image.clone());
    let event = Event {
        kind: "container".into(),
        action: action.into(),
        actor: Actor {
            id: record.id.clone(),
            attributes,
        },
        time: now.as_secs(),
        time_nano: now.as_nanos(),
    };
    append(&log_path(containers_dir), &event);
    if record.cgroup_manager == CgroupManager::Systemd {
        journal(&event);
    }
}

fn append(path: &Path, event: &Event) {
    let Ok(mut line) = serde_json::to_vec(event) else {
        return;
    };
    line.push(b'\n');
    if std::fs::metadata(path).is_ok_and(|m| m.len() > MAX_BYTES) {
        let _ = std::fs::rename(path, path.with_file_name(OLD));
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path);
    if let Ok(mut f) = file {
        let _ = f.write_all(&line);
    }
}

fn journal(event: &Event) {
    use libsystemd::logging::{journal_send, Priority};
    let a = &event.actor.attributes;
    let mut vars: Vec<(String, String)> = vec![
        ("MDRUN_EVENT".into(), event.action.clone()),
        ("MDRUN_ID".into(), event.actor.id.clone()),
        (
            "MDRUN_NAME".into(),
            a.get("name").cloned().unwrap_or_default(),
        ),
        (
            "MDRUN_IMAGE".into(),
            a.get("image").cloned().unwrap_or_default(),
        ),
        ("SYSLOG_IDENTIFIER".into(), "mdrun".into()),
    ];
    // The whole event, for `mdrun events --journal` (`events_journal.rs`).
    if let Ok(json) = serde_json::to_string(event) {
        vars.push(("MDRUN_JSON".into(), json));
    }
    for (k, v) in a
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "name" | "image"))
    {
        let key: String = k
            .chars()
            .map(|c| match c.is_ascii_alphanumeric() {
                true => c.to_ascii_uppercase(),
                false => '_',
            })
            .collect();
        vars.push((format!("MDRUN_{key}"), v.clone()));
    }
    let mut msg = format!(
        "container {} {} ({})",
        event.action,
        a.get("name").map_or("", String::as_str),
        crate::ids::short(&event.actor.id)
    );
    if let Some(h) = a.get("health") {
        msg.push_str(&format!(": {h}"));
    }
    let _ = journal_send(Priority::Info, &msg, vars.into_iter());
}

/// Every event on record in the store, oldest first.
pub fn read(containers_dir: &Path) -> Vec<Event> {
    let path = log_path(containers_dir);
    let mut out = read_file(&path.with_file_name(OLD));
    out.extend(read_file(&path));
    out
}

/// Events appended to the log after byte `offset`; returns them and the new offset (a log
/// that was rotated meanwhile is read from its start).
pub fn read_from(containers_dir: &Path, offset: u64) -> (Vec<Event>, u64) {
    let path = log_path(containers_dir);
    let Ok(mut f) = std::fs::File::open(&path) else {
        return (Vec::new(), 0);
    };
    let len = f.metadata().map_or(0, |m| m.len());
    let start = if len < offset { 0 } else { offset };
    use std::io::{Seek, SeekFrom};
    if f.seek(SeekFrom::Start(start)).is_err() {
        return (Vec::new(), offset);
    }
    let mut reader = std::io::BufReader::new(f);
    let mut events = Vec::new();
    let mut pos = start;
    let mut line = String::new();
    // Only whole lines: a line being written is read on the next round.
    while reader.read_line(&mut line).unwrap_or(0) > 0 && line.ends_with('\n') {
        pos += line.len() as u64;
        if let Ok(e) = serde_json::from_str(&line) {
            events.push(e);
        }
        line.clear();
    }
    (events, pos)
}

/// The current end of the log (where following starts).
pub fn end(containers_dir: &Path) -> u64 {
    std::fs::metadata(log_path(containers_dir)).map_or(0, |m| m.len())
}

fn read_file(path: &Path) -> Vec<Event> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_appended_and_read_back_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let containers = dir.path().join("containers");
        std::fs::create_dir(&containers).unwrap();
        let r = crate::state::sample_record(&"a1".repeat(32), "web");
        emit(&containers, &r, "create", &[]);
        let mid = end(&containers);
        emit(&containers, &r, "die", &[("exitCode", "3".into())]);
        let all = read(&containers);
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].action, "create");
        assert_eq!(all[1].actor.attributes["exitCode"], "3");
        assert_eq!(all[1].actor.attributes["name"], "web");
        let (new, pos) = read_from(&containers, mid);
        assert_eq!(new.len(), 1);
        assert_eq!(pos, end(&containers));
    }
}
