//! The journald driver: one journal entry per line, plus a local copy of every line.
//!
//! Who sends matters, and was measured against systemd 252's journald:
//! - journald rate-limits per *sending* unit (RateLimitBurst in journald.conf, 10,000 per
//!   30 s scaled by free space), and scopes refuse `LogRateLimitIntervalSec=`. The sender is
//!   mdrun's supervisor, which is wherever `mdrun run` was started: in a login session's
//!   scope 65,000 of 100,000 lines were dropped.
//! - So when the supervisor's own unit is limited ([`crate::systemd::relay::sender_is_limited`]),
//!   the lines go through a journal relay: a transient service of the container's own,
//!   `md-<id>-log.service`, made with a lifted `LogRateLimitBurst=` (a documented unit
//!   setting) and the container's fields as `LogExtraFields=`; mdrun writes `<N>line` records
//!   into a pipe that its `cat` copies into journald's stdout stream. Measured: all 100,000
//!   lines, in order, in every case (tests/systemd_logs.rs).
//! - Otherwise (no unit: no limit; units/mdrun@.service, whose limit is lifted), mdrun sends
//!   each line itself over journald's native protocol (libsystemd's `journal_send`), with a
//!   blocking datagram socket: a full journald queue makes mdrun (and so, through the pipe,
//!   the container) wait instead of dropping lines. Only this way marks cut lines
//!   (CONTAINER_PARTIAL_MESSAGE); through the relay a cut line is an entry like any other.
//! - `journalctl -u md-<id>.scope` matches `OBJECT_SYSTEMD_UNIT=md-<id>.scope` on entries
//!   from root senders (`_UID=0`), as it does for other privileged daemons that log about a
//!   unit; mdrun sets that field itself (or the relay's LogExtraFields= does), so entries
//!   stay attributed after the container's processes are gone.
//! - The local copy (`container.log`, the file driver's format) is what `mdrun logs` reads:
//!   "dual logging", as docker does. It goes with the container (`mdrun rm`).

use super::lines::{Line, Splitter};
use super::{Context, LogError, Sink, Stream};
use crate::systemd::relay::{self, Relay, RelaySpec};
use libsystemd::logging::{journal_send, Priority};
use std::io::Write;

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
    /// The journal relay, when mdrun's own unit is rate-limited; else the native protocol.
    relay: Option<Relay>,
    /// Records for the relay, written once per chunk.
    out: Vec<u8>,
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
    let fields = fields(ctx);
    let mut error = None;
    let relay = ctx.unit.as_deref().and_then(|scope| {
        let started = relay::sender_is_limited().and_then(|limited| {
            limited
                .then(|| {
                    relay::start(&RelaySpec {
                        scope,
                        identifier: &ctx.name,
                        fields: &fields,
                    })
                })
                .transpose()
        });
        started
            .map_err(|e| error = Some(format!("relay: {e}; lines went to journald directly")))
            .ok()
            .flatten()
    });
    Ok(JournaldSink {
        fields,
        stdout: Splitter::default(),
        stderr: Splitter::default(),
        error,
        relay,
        out: Vec::new(),
        // Without it, `mdrun logs` reads the journal: better than no journald entries at all.
        copy: ctx
            .dir
            .is_dir()
            .then(|| super::file::open(ctx).ok())
            .flatten(),
    })
}

/// A terminal ends lines with "\r\n": journalctl shows a line with a control character as
/// "[N blob data]", so the carriage return goes (the local copy keeps it).
fn text<'a>(line: &Line<'a>) -> &'a [u8] {
    line.text.strip_suffix(b"\r").unwrap_or(line.text)
}

/// One relay record: `<6>text\n` (stdout, info) or `<3>text\n` (stderr, error).
fn record(out: &mut Vec<u8>, stream: Stream, line: Line<'_>) {
    out.extend_from_slice(match stream {
        Stream::Stdout => b"<6>",
        Stream::Stderr => b"<3>",
    });
    out.extend_from_slice(text(&line));
    out.push(b'\n');
}

fn send(fields: &[(String, String)], error: &mut Option<String>, stream: Stream, line: Line<'_>) {
    let priority = match stream {
        Stream::Stdout => Priority::Info,
        Stream::Stderr => Priority::Error,
    };
    let text = String::from_utf8_lossy(text(&line));
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

impl JournaldSink {
    /// Hand `line` to journald: into the relay's records, or sent now.
    fn emit(&mut self, stream: Stream, flush: bool, data: &[u8]) {
        let (fields, error, out) = (&self.fields, &mut self.error, &mut self.out);
        let relayed = self.relay.is_some();
        let splitter = match stream {
            Stream::Stdout => &mut self.stdout,
            Stream::Stderr => &mut self.stderr,
        };
        let mut emit = |l: Line<'_>| match relayed {
            true => record(out, stream, l),
            false => send(fields, error, stream, l),
        };
        match flush {
            false => splitter.push(data, &mut emit),
            true => splitter.flush(&mut emit),
        }
        self.write_out();
    }

    /// Write what is waiting for the relay. A relay that fails (its `cat` gone) is given up:
    /// the next lines go to journald directly.
    fn write_out(&mut self) {
        let Some(r) = &mut self.relay else { return };
        if self.out.is_empty() {
            return;
        }
        if let Err(e) = r.pipe.write_all(&self.out) {
            self.error.get_or_insert_with(|| {
                format!(
                    "relay {}: write: {e}; the rest went to journald directly",
                    r.unit
                )
            });
            self.relay = None;
        }
        self.out.clear();
    }
}

impl Sink for JournaldSink {
    fn write(&mut self, stream: Stream, data: &[u8]) {
        self.emit(stream, false, data);
        if let Some(copy) = &mut self.copy {
            copy.write(stream, data);
        }
    }

    fn close(&mut self) {
        if let Some(copy) = &mut self.copy {
            copy.close();
        }
        self.emit(Stream::Stdout, true, b"");
        self.emit(Stream::Stderr, true, b"");
        if let Some(r) = self.relay.take() {
            let unit = r.unit.clone();
            if let Err(e) = r.finish() {
                self.error
                    .get_or_insert_with(|| format!("relay {unit}: {e}"));
            }
        }
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
