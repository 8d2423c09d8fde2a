//! `ps --filter KEY=VALUE` as docker takes it: `name` (part of the name), `id` (an id
//! prefix), `status` (created, running, paused, exited ...), `label` (`KEY` or
//! `KEY=VALUE`, the image's labels), `ancestor` (the image, by name[:tag] or id prefix).
//! Several values of one key: any of them; different keys: all of them.

use crate::error::{Error, Result};
use crate::state::Record;
use std::collections::BTreeMap;

const STATUSES: [&str; 7] = [
    "created",
    "restarting",
    "running",
    "removing",
    "paused",
    "exited",
    "dead",
];

#[derive(Debug, Default)]
pub struct Filters {
    name: Vec<String>,
    id: Vec<String>,
    status: Vec<String>,
    label: Vec<(String, Option<String>)>,
    ancestor: Vec<String>,
}

impl Filters {
    pub fn parse(args: &[String]) -> Result<Filters> {
        let mut f = Filters::default();
        for arg in args {
            let bad = |why: &str| {
                Error::Usage(format!(
                    "invalid filter {}: {why}",
                    crate::quote::quoted(arg)
                ))
            };
            let (key, value) = arg.split_once('=').ok_or_else(|| bad("use KEY=VALUE"))?;
            let value = value.to_string();
            match key {
                "name" => f.name.push(value),
                "id" => f.id.push(value),
                "status" if STATUSES.contains(&value.as_str()) => f.status.push(value),
                "status" => return Err(bad(
                    "status is one of created, restarting, running, removing, paused, exited, dead",
                )),
                "label" => f.label.push(match value.split_once('=') {
                    Some((k, v)) => (k.to_string(), Some(v.to_string())),
                    None => (value, None),
                }),
                "ancestor" => f.ancestor.push(value),
                _ => return Err(bad("the keys are name, id, status, label, ancestor")),
            }
        }
        Ok(f)
    }

    /// A status filter shows stopped containers without `-a`, as docker.
    pub fn has_status(&self) -> bool {
        !self.status.is_empty()
    }

    pub fn needs_labels(&self) -> bool {
        !self.label.is_empty()
    }

    /// Does `record` (in docker's `state`, with its image's `labels`) pass?
    pub fn matches(&self, record: &Record, state: &str, labels: &BTreeMap<String, String>) -> bool {
        let any = |list: &[String], ok: &dyn Fn(&str) -> bool| {
            list.is_empty() || list.iter().any(|v| ok(v))
        };
        any(&self.name, &|v| {
            record.name.contains(v.trim_start_matches('/'))
        }) && any(&self.id, &|v| record.id.starts_with(v))
            && any(&self.status, &|v| v == state)
            && any(&self.ancestor, &|v| ancestor(record, v))
            && (self.label.is_empty()
                || self.label.iter().all(|(k, v)| match v {
                    Some(v) => labels.get(k) == Some(v),
                    None => labels.contains_key(k),
                }))
    }
}

/// The container's image is `v`: its reference as given (`busybox` is `busybox:latest`),
/// or an id prefix.
fn ancestor(record: &Record, v: &str) -> bool {
    let with_tag = |s: &str| match s.rsplit_once(':') {
        Some((_, tag)) if !tag.contains('/') => s.to_string(),
        _ => format!("{s}:latest"),
    };
    let id = v.strip_prefix("sha256:").unwrap_or(v);
    with_tag(&record.image) == with_tag(v)
        || (id.len() >= 3
            && record
                .image_id
                .trim_start_matches("sha256:")
                .starts_with(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_combine_like_dockers() {
        let mut r = crate::state::sample_record(&"ab".repeat(32), "web-1");
        r.image = "busybox".into();
        let labels: BTreeMap<String, String> = [("tier".to_string(), "front".to_string())].into();
        let f = |args: &[&str]| {
            Filters::parse(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
        };
        assert!(f(&["name=web"]).matches(&r, "running", &labels));
        assert!(!f(&["name=db"]).matches(&r, "running", &labels));
        assert!(f(&["name=db", "name=web"]).matches(&r, "running", &labels));
        assert!(!f(&["name=web", "status=exited"]).matches(&r, "running", &labels));
        assert!(f(&["status=paused"]).matches(&r, "paused", &labels));
        assert!(f(&["label=tier"]).matches(&r, "running", &labels));
        assert!(f(&["label=tier=front"]).matches(&r, "running", &labels));
        assert!(!f(&["label=tier=back"]).matches(&r, "running", &labels));
        assert!(f(&["ancestor=busybox:latest", "id=abab"]).matches(&r, "running", &labels));
        assert!(!f(&["ancestor=alpine"]).matches(&r, "running", &labels));
        for bad in ["name", "status=sleeping", "color=red"] {
            assert!(Filters::parse(&[bad.to_string()]).is_err(), "{bad}");
        }
    }
}
