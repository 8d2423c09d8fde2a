//! `mdrun ps [-a] [-q] [-f KEY=VALUE] [--format table|json|TEMPLATE] [--no-trunc]`: the
//! containers, newest first;
//! running ones only unless `-a`. Reads only the records, plus /proc/<pid>/cgroup for each
//! running one (is it really?); a stale record found on the way is repaired (recorded as
//! `Exited (255)`, its cgroup and runtime directory freed) before it is shown.

use super::go_template::Format;
use super::ps_filter::Filters;
use super::ps_format;
use crate::cli::PsArgs;
use crate::config::GlobalConfig;
use crate::container::{self, Repair};
use crate::error::{Error, IoContext, Result};
use crate::image::Store;
use crate::paths::Paths;
use crate::state::{self, Record, Status};
use std::collections::BTreeMap;
use std::io::Write;

pub fn run(args: &PsArgs) -> Result<i32> {
    let global = GlobalConfig::load()?;
    let paths = Paths::open(&global.root, &global.run_root)?;
    list(&paths, args, &mut std::io::stdout().lock())
}

pub fn list(paths: &Paths, args: &PsArgs, out: &mut dyn Write) -> Result<i32> {
    let template = Format::parse(&args.format);
    if template.is_none() && !matches!(args.format.as_str(), "table" | "json") {
        return Err(Error::Usage(format!(
            "unknown --format {}: use table, json or a Go template",
            crate::quote::quoted(&args.format)
        )));
    }
    let filters = Filters::parse(&args.filter)?;
    let all = observed(paths);
    let store = Store::new(paths.clone());
    let wants_labels = filters.needs_labels() || args.format.contains("Labels");
    let labels_of = |r: &Record| -> BTreeMap<String, String> {
        match wants_labels {
            true => store
                .resolve(&r.image_id)
                .map(|i| i.config.labels)
                .unwrap_or_default(),
            false => BTreeMap::new(),
        }
    };
    // References: a record is large, and sorting them by value moves kilobytes each time.
    let mut records: Vec<(&Record, BTreeMap<String, String>)> = all
        .iter()
        .filter(|r| args.all || filters.has_status() || r.status == Status::Running)
        .map(|r| (r, labels_of(r)))
        .filter(|(r, labels)| filters.matches(r, ps_format::state(r), labels))
        .collect();
    records.sort_by(|(a, _), (b, _)| {
        b.created
            .total_cmp(&a.created)
            .then_with(|| a.id.cmp(&b.id))
    });
    let now = state::now();
    let text = if args.quiet {
        let id = |r: &Record| {
            if args.no_trunc {
                r.id.clone()
            } else {
                crate::ids::short(&r.id).to_string()
            }
        };
        records.iter().map(|(r, _)| id(r) + "\n").collect()
    } else if let Some(template) = template {
        let objects: Vec<_> = records
            .iter()
            .map(|(r, labels)| ps_format::fields(r, now, args.no_trunc, labels))
            .collect();
        template.render(&objects, &ps_format::field_headers())?
    } else if args.format == "json" {
        let entries: Vec<_> = records
            .iter()
            .map(|(r, _)| ps_format::entry(r, now))
            .collect();
        serde_json::to_string_pretty(&entries).expect("entries serialize") + "\n"
    } else {
        let mut rows = vec![ps_format::HEADER.map(String::from).to_vec()];
        rows.extend(
            records
                .iter()
                .map(|(r, _)| ps_format::row(r, now, args.no_trunc)),
        );
        super::human::table(&rows)
    };
    out.write_all(text.as_bytes())
        .ctx("write", "standard output")?;
    Ok(0)
}

/// Every record, stale ones repaired. A repair that fails (not root, say) is reported and
/// the record shown as stored.
fn observed(paths: &Paths) -> Vec<Record> {
    let mut shown = Vec::new();
    for record in state::scan(&paths.containers()) {
        if record.status == Status::Exited {
            shown.push(record); // no process to look at: the common case stays cheap
            continue;
        }
        match container::refresh(paths, record.clone(), Repair::Record) {
            Ok(Some((r, _))) => shown.push(r),
            Ok(None) => {}
            Err(e) => {
                eprintln!("mdrun: repair stale container {}: {e}", record.name);
                shown.push(record);
            }
        }
    }
    shown
}
