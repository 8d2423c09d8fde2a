//! The journald driver: one journal entry per line, sent by mdrun over journald's native
//! protocol (libsystemd's `journal_send`), plus a local copy of every line.
//!
//! Who sends matters, and was measured against systemd 252's journald:
//! - journald rate-limits per *sending* unit (RateLimitBurst in journald.conf, 10,000 per
//!   30 s scaled by free space): a sender inside a scope lost 15,000 of 50,000 lines, and
//!   scopes refuse `LogRateLimitIntervalSec=`. mdrun sends from its own process, which is not
//!   in the container's scope: the limit that applies is the one of mdrun's own unit, if it
//!   is in one. `units/mdrun@.service` lifts it (LogRateLimitBurst); a process outside any
//!   unit has no limit at all; a login session (`mdrun run -d` typed in a shell) has the
//!   default one, and there journald drops what goes over it.
//! - So nothing is lost where it matters to mdrun, the journald driver also keeps the
//!   container's lines in its local file (`container.log`, the file driver's format), and
//!   `mdrun logs` reads that: "dual logging", as docker does for the same reason. journald
//!   gets everything its policy accepts; the admin's rate limit is not worked around through
//!   systemd-internal files (/run/systemd/units/log-rate-limit-*). The local copy goes with
//!   the container (`mdrun rm`).
//! - With a blocking datagram socket a full journald queue makes mdrun (and so, through the
//!   pipe, the container) wait instead of dropping lines.
//! - `journalctl -u md-<id>.scope` matches `OBJECT_SYSTEMD_UNIT=md-<id>.scope` on entries
//!   from root senders (`_UID=0`), as it does for other privileged daemons that log about a
//!   unit; mdrun sets that field itself, so entries stay attributed after the container's
//!   processes are gone (OBJECT_PID would need them alive when journald reads the entry).

use super::lines::{Line, Splitter};
use super::{Context, LogError, Sink, Stream};
use libsystemd::logging::{journal_send, Priority};

/// Where journald listens for native entries.
pub const SOCKET: &str = "/run/systemd/journal/socket";

pub struct JournaldSink {
    fields: Vec<(String, String)>,
    stdout: Splitter,
    stderr: Splitter,
    /// The first send error, reported once on close (a full disk, journald gone).
    error: Option<String>,
    /// The local copy that `mdrun logs` reads (None when the container has no directory).
    copy: Option<super::file::FileSink>,
}

/// The fields every entry of this container carries.
pub fn fields(ctx: &Context) -> Vec<(String, String)> {
    let mut f = vec![
        (
            "CONTAINER_ID".to_string(),
            crate::ids::short(&ctx.id).to_string(),
        ),
        ("CONTAINER_ID_FULL".to_string(), ctx.id.clone()),
        ("CONTAINER_NAME".to_string(), ctx.name.clone()),
        ("SYSLOG_IDENTIFIER".to_string(), ctx.name.clone()),
    ];
    if let Some(unit) = &ctx.unit {
        f.push(("OBJECT_SYSTEMD_UNIT".to_string(), unit.clone()));
    }
    f
}

pub fn open(ctx: &Context) -> Result<JournaldSink, LogError> {
    if std::os::unix::net::UnixDatagram::unbound()
        .and_then(|s| s.connect(SOCKET))
        .is_err()
    {
        return Err(LogError::NoJournald {
            path: SOCKET.into(),
        });
    }
    Ok(JournaldSink {
        fields: fields(ctx),
        stdout: Splitter::default(),
        stderr: Splitter::default(),
        error: None,
        // Without it, `mdrun logs` reads the journal: better than no journald entries at all.
        copy: ctx
            .dir
            .is_dir()
            .then(|| super::file::open(ctx).ok())
            .flatten(),
    })
}

fn send(fields: &[(String, String)], error: &mut Option<String>, stream: Stream, line: Line<'_>) {
    let priority = match stream {
        Stream::Stdout => Priority::Info,
        Stream::Stderr => Priority::Error,
    };
    // A terminal ends lines with "\r\n": journalctl shows a line with a control character
    // as "[N blob data]", so the carriage return goes (the local copy keeps it).
    let text = String::from_utf8_lossy(line.text.strip_suffix(b"\r").unwrap_or(line.text));
    let partial = line
        .partial
        .then(|| ("CONTAINER_PARTIAL_MESSAGE".to_string(), "true".to_string()));
    let vars = fields
        .iter()
        .chain(partial.iter())
        .map(|(k, v)| (k.as_str(), v.as_str()));
    if let Err(e) = journal_send(priority, &text, vars) {
        error.get_or_insert_with(|| e.to_string());
    }
}

impl Sink for JournaldSink {
    fn write(&mut self, stream: Stream, data: &[u8]) {
        let (fields, error) = (&self.fields, &mut self.error);
        let splitter = match stream {
            Stream::Stdout => &mut self.stdout,
            Stream::Stderr => &mut self.stderr,
        };
        splitter.push(data, &mut |l| send(fields, error, stream, l));
        if let Some(copy) = &mut self.copy {
            copy.write(stream, data);
        }
    }

    fn close(&mut self) {
        if let Some(copy) = &mut self.copy {
            copy.close();
        }
        let (fields, error) = (&self.fields, &mut self.error);
        self.stdout
            .flush(&mut |l| send(fields, error, Stream::Stdout, l));
        self.stderr
            .flush(&mut |l| send(fields, error, Stream::Stderr, l));
        if let Some(e) = self.error.take() {
            eprintln!("mdrun: journald: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_name_the_container_and_its_unit() {
        let ctx = Context {
            id: "0123456789abcdef".repeat(4),
            name: "web".into(),
            unit: Some("md-0123456789ab.scope".into()),
            pid: 1,
            dir: "/nonexistent".into(),
        };
        let f = fields(&ctx);
        let get = |k: &str| f.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("CONTAINER_ID"), Some("0123456789ab"));
        assert_eq!(get("CONTAINER_ID_FULL"), Some(ctx.id.as_str()));
        assert_eq!(get("CONTAINER_NAME"), Some("web"));
        assert_eq!(get("SYSLOG_IDENTIFIER"), Some("web"));
        assert_eq!(get("OBJECT_SYSTEMD_UNIT"), Some("md-0123456789ab.scope"));
    }
}
