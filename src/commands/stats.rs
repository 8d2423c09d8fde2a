//! `mdrun stats [--no-stream] [--format table|json] [CONTAINER...]`: docker's table of
//! what running containers use (CPU %, MEM USAGE / LIMIT, MEM %, NET I/O, BLOCK I/O,
//! PIDS), from two samples a moment apart (see `container::sample`). On a terminal, and
//! without `--no-stream`, the table is redrawn every second until interrupted; otherwise
//! it is printed once. `--format json`: one object a container and line, docker's string
//! fields plus the raw figures they were made of.

use super::human::table;
use super::units::{bytes_size, human_size};
use crate::cli::StatsArgs;
use crate::config::GlobalConfig;
use crate::container::{self, Sample};
use crate::error::{Error, IoContext, Result};
use crate::paths::Paths;
use crate::state::{self, Liveness, Record, Status};
use std::io::{IsTerminal, Write};
use std::time::Duration;

const HEADER: [&str; 8] = [
    "CONTAINER ID",
    "NAME",
    "CPU %",
    "MEM USAGE / LIMIT",
    "MEM %",
    "NET I/O",
    "BLOCK I/O",
    "PIDS",
];

pub fn run(args: &StatsArgs) -> Result<i32> {
    if !matches!(args.format.as_str(), "table" | "json") {
        return Err(Error::Usage(format!(
            "unknown --format {}: use table or json",
            crate::quote::quoted(&args.format)
        )));
    }
    let global = GlobalConfig::load()?;
    let paths = Paths::open(&global.root, &global.run_root)?;
    let live = !args.no_stream && std::io::stdout().is_terminal();
    let mut before = samples(&running(&paths, &args.containers)?);
    std::thread::sleep(match live {
        true => Duration::from_secs(1),
        false => Duration::from_millis(500),
    });
    loop {
        let records = running(&paths, &args.containers)?;
        let after = samples(&records);
        let rows: Vec<Row> = records
            .iter()
            .zip(&after)
            .map(|(r, a)| {
                let b = before.iter().find(|(id, _)| *id == r.id).map(|(_, s)| s);
                Row::new(r, b.unwrap_or(&a.1), &a.1)
            })
            .collect();
        let mut text = match live {
            true => "\x1b[2J\x1b[H".to_string(),
            false => String::new(),
        };
        text += &render(&rows, &args.format);
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .ctx("write", "standard output")?;
        if !live {
            return Ok(0);
        }
        before = after;
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// The containers asked for (each must run), else every running one.
fn running(paths: &Paths, queries: &[String]) -> Result<Vec<Record>> {
    if queries.is_empty() {
        let mut all: Vec<Record> = state::scan(&paths.containers())
            .into_iter()
            .filter(|r| r.status == Status::Running && r.liveness() == Liveness::AsRecorded)
            .collect();
        all.sort_by(|a, b| b.created.total_cmp(&a.created));
        return Ok(all);
    }
    queries
        .iter()
        .map(|q| {
            let (record, liveness) = container::lookup(paths, q)?;
            match record.status == Status::Running && liveness == Liveness::AsRecorded {
                true => Ok(record),
                false => Err(state::StateError::NotRunning { name: record.name }.into()),
            }
        })
        .collect()
}

fn samples(records: &[Record]) -> Vec<(String, Sample)> {
    records
        .iter()
        .map(|r| (r.id.clone(), container::sample(r)))
        .collect()
}

/// One container's line, as docker's `--format json` names its fields, plus the figures.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct Row {
    #[serde(rename = "ID")]
    id: String,
    name: String,
    #[serde(rename = "CPUPerc")]
    cpu_perc: String,
    mem_usage: String,
    mem_perc: String,
    #[serde(rename = "NetIO")]
    net_io: String,
    #[serde(rename = "BlockIO")]
    block_io: String,
    #[serde(rename = "PIDs")]
    pids: String,
    /// The raw figures: bytes, microseconds, counts.
    memory_bytes: u64,
    memory_limit_bytes: u64,
    #[serde(rename = "CPUUsec")]
    cpu_usec: u64,
    pids_current: u64,
    net_rx_bytes: u64,
    net_tx_bytes: u64,
    block_read_bytes: u64,
    block_write_bytes: u64,
}

impl Row {
    fn new(record: &Record, before: &Sample, after: &Sample) -> Row {
        let u = &after.usage;
        let limit = u.memory_limit.unwrap_or_else(container::host_memory);
        let mem_perc = match limit {
            0 => 0.0,
            l => u.memory as f64 / l as f64 * 100.0,
        };
        Row {
            id: crate::ids::short(&record.id).to_string(),
            name: record.name.clone(),
            cpu_perc: format!("{:.2}%", container::cpu_percent(before, after)),
            mem_usage: format!("{} / {}", bytes_size(u.memory), bytes_size(limit)),
            mem_perc: format!("{mem_perc:.2}%"),
            net_io: format!(
                "{} / {}",
                human_size(after.net_rx),
                human_size(after.net_tx)
            ),
            block_io: format!(
                "{} / {}",
                human_size(u.block_read),
                human_size(u.block_write)
            ),
            pids: u.pids.to_string(),
            memory_bytes: u.memory,
            memory_limit_bytes: limit,
            cpu_usec: u.cpu_usec,
            pids_current: u.pids,
            net_rx_bytes: after.net_rx,
            net_tx_bytes: after.net_tx,
            block_read_bytes: u.block_read,
            block_write_bytes: u.block_write,
        }
    }
}

fn render(rows: &[Row], format: &str) -> String {
    if format == "json" {
        return rows
            .iter()
            .map(|r| serde_json::to_string(r).expect("rows serialize") + "\n")
            .collect();
    }
    let mut lines = vec![HEADER.map(String::from).to_vec()];
    lines.extend(rows.iter().map(|r| {
        vec![
            r.id.clone(),
            r.name.clone(),
            r.cpu_perc.clone(),
            r.mem_usage.clone(),
            r.mem_perc.clone(),
            r.net_io.clone(),
            r.block_io.clone(),
            r.pids.clone(),
        ]
    }));
    table(&lines)
}
