//! `mdrun events [--since T] [--until T] [--filter KEY=VALUE] [--format json|TEMPLATE]`:
//! the store's container events (see `container::events`), oldest first, then, without
//! `--until`, new ones as they happen until interrupted. Without `--since` only new ones,
//! as docker. Filters: `container=` (name or id prefix), `event=` (action), `image=`;
//! several values of one key: any of them. `--journal` reads the journal's copy of the
//! events (`container::events_journal`) instead of the store's events.log.

use super::go_template::{fields_of, Format};
use super::logs::parse_since;
use crate::cli::EventsArgs;
use crate::config::GlobalConfig;
use crate::container::events::{self, Event};
use crate::error::{Error, IoContext, Result};
use crate::paths::Paths;
use crate::state;
use std::io::Write;
use std::time::Duration;

pub fn run(args: &EventsArgs) -> Result<i32> {
    let now = state::now();
    let since = args
        .since
        .as_deref()
        .map(|s| parse_since(s, now))
        .transpose()?;
    let until = args
        .until
        .as_deref()
        .map(|s| parse_since(s, now))
        .transpose()?;
    let filters = Filters::parse(&args.filter)?;
    let template = Format::parse(&args.format);
    if template.is_none() && !matches!(args.format.as_str(), "" | "json") {
        return Err(Error::Usage(format!(
            "unknown --format {}: use json or a Go template",
            crate::quote::quoted(&args.format)
        )));
    }
    let global = GlobalConfig::load()?;
    let paths = Paths::open(&global.root, &global.run_root)?;
    let containers = paths.containers();
    let show = |e: &Event| -> Result<()> {
        let keep = since.is_none_or(|s| e.unix() >= s)
            && until.is_none_or(|u| e.unix() <= u)
            && filters.matches(e);
        if !keep {
            return Ok(());
        }
        let line = match (&template, args.format.as_str()) {
            (Some(t), _) => t.render(
                &[fields_of(
                    &serde_json::to_value(e).expect("events serialize"),
                )],
                &Default::default(),
            )?,
            (None, "json") => serde_json::to_string(e).expect("events serialize") + "\n",
            (None, _) => text(e),
        };
        let mut out = std::io::stdout().lock();
        out.write_all(line.as_bytes())
            .and_then(|()| out.flush())
            .ctx("write", "standard output")
    };
    if args.journal {
        return follow_journal(&containers, since, until, &filters.event, &show);
    }
    let mut offset = events::end(&containers);
    if since.is_some() {
        for e in events::read(&containers) {
            show(&e)?;
        }
    }
    // Follow, unless the end is in the past.
    while until.is_none_or(|u| state::now() <= u) {
        std::thread::sleep(Duration::from_millis(100));
        let (new, next) = events::read_from(&containers, offset);
        offset = next;
        for e in &new {
            show(e)?;
        }
    }
    Ok(0)
}

/// `--journal`: the journal's copy, read as the log is (past ones with `--since`, then new
/// ones until `--until`), following by polling after the last cursor.
fn follow_journal(
    containers: &std::path::Path,
    since: Option<f64>,
    until: Option<f64>,
    actions: &[String],
    show: &dyn Fn(&Event) -> Result<()>,
) -> Result<i32> {
    use crate::container::events_journal::{read, Query};
    let query = Query {
        since: Some(since.unwrap_or_else(state::now)),
        until,
        actions,
    };
    let mut cursor: Option<String> = None;
    loop {
        let end_seen = until.is_some_and(|u| state::now() > u);
        let (new, last) = read(containers, &query, cursor.as_deref())?;
        for e in &new {
            show(e)?;
        }
        cursor = last.or(cursor);
        if end_seen {
            return Ok(0);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// docker's line: `2026-12-06T07:30:00.123456789Z container start ID (image=..., name=...)`.
fn text(e: &Event) -> String {
    let attrs: Vec<String> = e
        .actor
        .attributes
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    format!(
        "{} {} {} {} ({})\n",
        crate::time::rfc3339(e.unix()),
        e.kind,
        e.action,
        e.actor.id,
        attrs.join(", ")
    )
}

#[derive(Default)]
struct Filters {
    container: Vec<String>,
    event: Vec<String>,
    image: Vec<String>,
}

impl Filters {
    fn parse(args: &[String]) -> Result<Filters> {
        let mut f = Filters::default();
        for arg in args {
            let bad = || {
                Error::Usage(format!(
                    "invalid filter {}: use container=, event= or image=",
                    crate::quote::quoted(arg)
                ))
            };
            match arg.split_once('=').ok_or_else(bad)? {
                ("container", v) => f.container.push(v.to_string()),
                ("event", v) => f.event.push(v.to_string()),
                ("image", v) => f.image.push(v.to_string()),
                ("type", "container") => {}
                _ => return Err(bad()),
            }
        }
        Ok(f)
    }

    fn matches(&self, e: &Event) -> bool {
        let attr = |k: &str| e.actor.attributes.get(k).map_or("", String::as_str);
        let any = |list: &[String], ok: &dyn Fn(&str) -> bool| {
            list.is_empty() || list.iter().any(|v| ok(v))
        };
        any(&self.container, &|v| {
            attr("name") == v || e.actor.id.starts_with(v)
        }) && any(&self.event, &|v| e.action == v)
            && any(&self.image, &|v| attr("image") == v)
    }
}
