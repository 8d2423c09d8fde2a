//! How `ps` shows a container: docker's STATUS and COMMAND strings, its table rows, and
//! the JSON objects of `--format json`.

use super::human::{elapsed, human_duration};
use crate::state::{HealthStatus, Record, Status};

/// docker's STATUS: `Up 5 seconds`, `Up 2 minutes (healthy)`, `Exited (137) 2 minutes
/// ago`, `Restarting (1) 2 seconds ago`, `Created`.
pub fn status(record: &Record, now: f64) -> String {
    match record.status {
        Status::Created => "Created".to_string(),
        Status::Running => {
            let up = format!(
                "Up {}",
                human_duration(elapsed(now, record.started.unwrap_or(record.created)))
            );
            // docker: a paused container shows (Paused), whatever its health.
            if crate::container::is_paused(record) {
                return up + " (Paused)";
            }
            match &record.health {
                Some(h) if h.status == HealthStatus::Starting => up + " (health: starting)",
                Some(h) => format!("{up} ({})", h.status.as_str()),
                None => up,
            }
        }
        Status::Exited => {
            let code = record
                .exit
                .map(|e| e.code())
                .unwrap_or(crate::container::UNKNOWN_EXIT);
            let when = record.finished.or(record.started).unwrap_or(record.created);
            // Its restart policy starts it again (docker: `Restarting (1) 2 seconds ago`).
            let state = if record.restart_pending {
                "Restarting"
            } else {
                "Exited"
            };
            format!(
                "{state} ({code}) {} ago",
                human_duration(elapsed(now, when))
            )
        }
    }
}

/// docker's State.Status: `created`, `running`, `paused` or `exited`.
pub fn state(record: &Record) -> &'static str {
    match record.status {
        Status::Created => "created",
        Status::Running if crate::container::is_paused(record) => "paused",
        Status::Running => "running",
        Status::Exited => "exited",
    }
}

/// docker's CREATED: `2 minutes ago`.
pub fn created(record: &Record, now: f64) -> String {
    format!("{} ago", human_duration(elapsed(now, record.created)))
}

/// docker's COMMAND: the arguments joined by spaces, cut to 20 characters with an
/// ellipsis unless `no_trunc`, then quoted as Go's strconv.Quote does.
pub fn command(args: &[String], no_trunc: bool) -> String {
    let joined = args.join(" ");
    let shown = if no_trunc {
        joined
    } else {
        ellipsis(&joined, 20)
    };
    go_quote(&shown)
}

/// At most `max` characters, the last one `…` when cut.
fn ellipsis(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut cut: String = s.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

/// strconv.Quote: double quotes, with `"`, `\` and control characters escaped.
fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A container's fields for a `--format` Go template, named as docker names them.
pub fn fields(
    record: &Record,
    now: f64,
    no_trunc: bool,
    labels: &std::collections::BTreeMap<String, String>,
) -> super::go_template::Fields {
    let row = row(record, now, no_trunc);
    let labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let created = crate::time::rfc3339(record.created);
    let pairs: [(&str, String); 14] = [
        ("ID", row[0].clone()),
        ("Image", record.image.clone()),
        ("Command", row[2].clone()),
        ("CreatedAt", created),
        ("RunningFor", row[3].clone()),
        ("Status", row[4].clone()),
        ("State", state(record).to_string()),
        ("Names", record.name.clone()),
        ("Labels", labels.join(",")),
        ("Ports", String::new()),
        ("Mounts", String::new()),
        ("Networks", String::new()),
        ("Size", String::new()),
        ("Pid", row[6].clone()),
    ];
    pairs
        .into_iter()
        .map(|(k, v)| (k.to_string(), gtmpl::Value::from(v)))
        .collect()
}

/// What `table` puts above each field's column (docker's headers).
pub fn field_headers() -> super::go_template::Fields {
    [
        ("ID", "CONTAINER ID"),
        ("Image", "IMAGE"),
        ("Command", "COMMAND"),
        ("CreatedAt", "CREATED AT"),
        ("RunningFor", "CREATED"),
        ("Status", "STATUS"),
        ("State", "STATE"),
        ("Names", "NAMES"),
        ("Labels", "LABELS"),
        ("Ports", "PORTS"),
        ("Mounts", "MOUNTS"),
        ("Networks", "NETWORKS"),
        ("Size", "SIZE"),
        ("Pid", "PID"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), gtmpl::Value::from(v.to_string())))
    .collect()
}

pub const HEADER: [&str; 7] = [
    "CONTAINER ID",
    "IMAGE",
    "COMMAND",
    "CREATED",
    "STATUS",
    "NAMES",
    "PID",
];

/// One table row.
pub fn row(record: &Record, now: f64, no_trunc: bool) -> Vec<String> {
    let id = if no_trunc {
        record.id.clone()
    } else {
        crate::ids::short(&record.id).to_string()
    };
    let pid = match (record.status, record.pid) {
        (Status::Running, Some(pid)) => pid.to_string(),
        _ => "-".to_string(),
    };
    vec![
        id,
        record.image.clone(),
        command(&record.command, no_trunc),
        created(record, now),
        status(record, now),
        record.name.clone(),
        pid,
    ]
}

/// One element of `ps --format json`: full values, machine-readable.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Entry<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub image: &'a str,
    pub image_id: &'a str,
    pub command: &'a [String],
    /// Unix seconds.
    pub created: f64,
    pub started: Option<f64>,
    pub finished: Option<f64>,
    /// docker's State: `created`, `running`, `paused` or `exited`.
    pub state: &'static str,
    pub status: String,
    pub exit_code: Option<i32>,
    pub oom_killed: bool,
    pub pid: Option<i32>,
}

pub fn entry(record: &Record, now: f64) -> Entry<'_> {
    Entry {
        id: &record.id,
        name: &record.name,
        image: &record.image,
        image_id: &record.image_id,
        command: &record.command,
        created: record.created,
        started: record.started,
        finished: record.finished,
        state: state(record),
        status: status(record, now),
        exit_code: record.exit.map(|e| e.code()),
        oom_killed: record.oom_killed,
        pid: record.pid.filter(|_| record.status == Status::Running),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::sample_record as sample;
    use crate::state::ExitStatus;

    const NOW: f64 = 1_700_000_000.0;

    #[test]
    fn running_shows_up_since_start() {
        let mut r = sample(&"a".repeat(64), "x");
        r.started = Some(NOW - 5.2);
        assert_eq!(status(&r, NOW), "Up 5 seconds");
        r.started = Some(NOW - 0.3);
        assert_eq!(status(&r, NOW), "Up Less than a second");
        r.started = Some(NOW - 61.0);
        assert_eq!(status(&r, NOW), "Up About a minute");
    }

    #[test]
    fn exited_shows_the_code_and_when() {
        let mut r = sample(&"a".repeat(64), "x");
        r.status = Status::Exited;
        r.exit = Some(ExitStatus::Exited(0));
        r.finished = Some(NOW - 125.0);
        assert_eq!(status(&r, NOW), "Exited (0) 2 minutes ago");
        r.exit = Some(ExitStatus::Signaled(9));
        assert_eq!(status(&r, NOW), "Exited (137) 2 minutes ago");
        r.exit = None;
        assert_eq!(status(&r, NOW), "Exited (255) 2 minutes ago");
    }

    #[test]
    fn restarting_and_health_show_as_docker_does() {
        let mut r = sample(&"a".repeat(64), "x");
        r.status = Status::Exited;
        r.exit = Some(ExitStatus::Exited(1));
        r.finished = Some(NOW - 2.0);
        r.restart_pending = true;
        assert_eq!(status(&r, NOW), "Restarting (1) 2 seconds ago");
        r.status = Status::Running;
        r.started = Some(NOW - 300.0);
        r.health = Some(crate::state::Health::default());
        assert_eq!(status(&r, NOW), "Up 5 minutes (health: starting)");
        r.health.as_mut().unwrap().status = HealthStatus::Healthy;
        assert_eq!(status(&r, NOW), "Up 5 minutes (healthy)");
        r.health.as_mut().unwrap().status = HealthStatus::Unhealthy;
        assert_eq!(status(&r, NOW), "Up 5 minutes (unhealthy)");
    }

    #[test]
    fn created_shows_created() {
        let mut r = sample(&"a".repeat(64), "x");
        r.status = Status::Created;
        r.created = NOW - 3600.0;
        assert_eq!(status(&r, NOW), "Created");
        assert_eq!(created(&r, NOW), "About an hour ago");
    }

    #[test]
    fn commands_are_quoted_and_cut_like_docker() {
        let args = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        assert_eq!(command(&args("sleep 30"), false), "\"sleep 30\"");
        assert_eq!(
            command(&args("sh -c while true; do sleep 1; done"), false),
            "\"sh -c while true; d…\""
        );
        assert_eq!(
            command(&args("sh -c while true; do sleep 1; done"), true),
            "\"sh -c while true; do sleep 1; done\""
        );
        assert_eq!(
            command(&["echo".into(), "\"hi\"\n".into()], false),
            "\"echo \\\"hi\\\"\\n\""
        );
        assert_eq!(
            command(&args("12345678901234567890"), false),
            "\"12345678901234567890\""
        );
    }

    #[test]
    fn rows_have_a_short_id_and_the_pid_only_while_running() {
        let mut r = sample(&"ab".repeat(32), "web");
        r.pid = Some(4242);
        r.started = Some(NOW - 10.0);
        r.created = NOW - 10.0;
        let row = row(&r, NOW, false);
        assert_eq!(
            row,
            [
                "abababababab",
                "busybox",
                "\"sleep 30\"",
                "10 seconds ago",
                "Up 10 seconds",
                "web",
                "4242"
            ]
        );
        r.status = Status::Exited;
        assert_eq!(super::row(&r, NOW, true)[6], "-");
        assert_eq!(super::row(&r, NOW, true)[0].len(), 64);
    }
}
