//! A journal relay: a transient service, `md-<id>-log.service`, whose only process (`cat`)
//! copies the container's output from a pipe into journald's stdout stream.
//!
//! Why (systemd 252, measured): journald rate-limits per *sending* unit, and the sender of a
//! container's lines is mdrun's supervisor, which lives wherever `mdrun run` was typed: a
//! login session's scope, with journald's default limit (10,000 lines per 30 s, scaled by
//! free space; 65,000 of 100,000 lines were dropped). Scopes refuse
//! `LogRateLimitIntervalSec=`; services take it, as a documented unit setting that PID 1
//! hands to journald itself. So the lines are sent from a service of the container's own,
//! made for the purpose with `LogRateLimitIntervalUSec`/`LogRateLimitBurst` far above what
//! journald can take in, and with the container's fields as `LogExtraFields=`
//! (CONTAINER_ID, CONTAINER_NAME, OBJECT_SYSTEMD_UNIT=md-<id>.scope, so that
//! `journalctl -u md-<id>.scope` finds them), `SyslogIdentifier=` and a `<N>` priority
//! prefix per line (SyslogLevelPrefix). The pipe and journald's stream socket are both
//! flow-controlled: a slow journald makes the container wait, it does not lose lines. Only
//! public interfaces are used: no systemd-internal files, no change to journald.conf.
//!
//! Not needed (and not made) when the sender is in no unit at all (no limit applies) or in
//! a service whose own limit is lifted (units/mdrun@.service): [`sender_is_limited`].

use super::bus::{
    self, call_err, connect, typed_property, unit_path, unit_property, SCOPE_INTERFACE,
    SERVICE_INTERFACE, UNIT_INTERFACE,
};
use super::SystemdError;
use std::fs::File;
use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};
use zbus::blocking::Connection;
use zbus::zvariant::{Fd, Value};

/// The relay's own limit: a million lines per second, far above what journald takes in.
/// (0 would mean "journald.conf's default", not "no limit".)
pub const BURST: u32 = 1_000_000;
pub const INTERVAL_USEC: u64 = 1_000_000;

/// A sender allowed at least this many lines per second is not limited in practice.
const UNLIMITED_RATE: u64 = 100_000;

/// How long [`Relay::finish`] waits for journald to take the last lines.
const FINISH_TIMEOUT: Duration = Duration::from_secs(30);

/// The pipe's size: room for bursts while journald catches up.
const PIPE_SIZE: i32 = 1 << 20;

/// What the relay attaches to every entry.
pub struct RelaySpec<'a> {
    /// The container's scope, `md-<id>.scope`: the relay is `md-<id>-log.service`.
    pub scope: &'a str,
    /// SYSLOG_IDENTIFIER (the container's name).
    pub identifier: &'a str,
    /// `KEY=VALUE` fields (CONTAINER_ID, ...), journald's LogExtraFields=.
    pub fields: &'a [(String, String)],
}

/// A running relay: write `<N>line\n` records into [`Relay::pipe`].
pub struct Relay {
    pub unit: String,
    pub pipe: File,
    conn: Connection,
}

/// The relay's unit name: `md-<id>.scope` -> `md-<id>-log.service`.
pub fn unit_name(scope: &str) -> String {
    format!(
        "{}-log.service",
        scope.strip_suffix(".scope").unwrap_or(scope)
    )
}

/// Does journald rate-limit what this process sends? Only a process outside any unit, or in
/// a service allowing [`UNLIMITED_RATE`] lines per second or more, is left alone.
pub fn sender_is_limited() -> Result<bool, SystemdError> {
    let conn = connect()?;
    let manager = bus::manager(&conn)?;
    let path = match manager.get_unit_by_pid(std::process::id()) {
        Ok(p) => p,
        Err(zbus::Error::MethodError(e, _, _)) if e.as_str().ends_with("NoUnitForPID") => {
            return Ok(false)
        }
        Err(e) => return Err(call_err("GetUnitByPID", "mdrun")(e)),
    };
    let id = unit_property(&conn, &path, UNIT_INTERFACE, "Id")?;
    if !id.ends_with(".service") {
        return Ok(true);
    }
    let interval: u64 =
        typed_property(&conn, &path, SERVICE_INTERFACE, "LogRateLimitIntervalUSec")?;
    let burst: u32 = typed_property(&conn, &path, SERVICE_INTERFACE, "LogRateLimitBurst")?;
    Ok(!(interval > 0 && u64::from(burst) * 1_000_000 / interval >= UNLIMITED_RATE))
}

/// `cat`, where the host has it.
fn cat() -> &'static str {
    ["/usr/bin/cat", "/bin/cat"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .unwrap_or("/bin/cat")
}

/// Start the relay for `spec` and wait until it runs.
pub fn start(spec: &RelaySpec<'_>) -> Result<Relay, SystemdError> {
    let unit = unit_name(spec.scope);
    let pipe_err = |step: &'static str| {
        let unit = unit.clone();
        move |e: nix::Error| SystemdError::Call {
            step,
            what: format!("for {unit}"),
            source: Box::new(zbus::Error::InputOutput(std::sync::Arc::new(e.into()))),
        }
    };
    let (read, write) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(pipe_err("pipe"))?;
    // Best effort: a smaller pipe only means the container waits sooner.
    let _ = nix::fcntl::fcntl(&write, nix::fcntl::FcntlArg::F_SETPIPE_SZ(PIPE_SIZE));
    let conn = connect()?;
    let manager = bus::manager(&conn)?;
    // Beside the container, in its slice.
    let slice = unit_property(&conn, &unit_path(spec.scope), SCOPE_INTERFACE, "Slice")
        .ok()
        .filter(|s| !s.is_empty());
    let props = properties(spec, slice.as_deref(), &read);
    let started = super::job::start_and_wait(&conn, &manager, &unit, &props);
    drop(props);
    // systemd holds its own copy of the read end now.
    drop::<OwnedFd>(read);
    started?;
    Ok(Relay {
        unit,
        pipe: File::from(write),
        conn,
    })
}

fn properties<'a>(
    spec: &'a RelaySpec<'_>,
    slice: Option<&'a str>,
    read: &'a OwnedFd,
) -> Vec<(&'static str, Value<'a>)> {
    let extra: Vec<Vec<u8>> = spec
        .fields
        .iter()
        .map(|(k, v)| format!("{k}={v}").into_bytes())
        .collect();
    let exec = vec![(cat().to_string(), vec!["cat".to_string()], false)];
    let mut p: Vec<(&'static str, Value<'a>)> = vec![
        (
            "Description",
            Value::from(format!("mdrun journal relay for {}", spec.scope)),
        ),
        ("ExecStart", Value::from(exec)),
        ("StandardInputFileDescriptor", Value::from(Fd::from(read))),
        ("StandardOutput", Value::from("journal")),
        // cat's own complaints are not the container's output.
        ("StandardError", Value::from("null")),
        ("SyslogIdentifier", Value::from(spec.identifier)),
        ("SyslogLevelPrefix", Value::from(true)),
        ("LogExtraFields", Value::from(extra)),
        ("LogRateLimitIntervalUSec", Value::from(INTERVAL_USEC)),
        ("LogRateLimitBurst", Value::from(BURST)),
        ("DefaultDependencies", Value::from(false)),
        ("CollectMode", Value::from("inactive-or-failed")),
    ];
    if let Some(s) = slice {
        p.push(("Slice", Value::from(s)));
    }
    p
}

impl Relay {
    /// The output ended: close the pipe and wait until `cat` has passed on the last line and
    /// the unit is gone, so that nothing of the container outlives it.
    pub fn finish(self) -> Result<(), SystemdError> {
        drop(self.pipe);
        let manager = bus::manager(&self.conn)?;
        let deadline = Instant::now() + FINISH_TIMEOUT;
        loop {
            let path = match manager.get_unit(&self.unit) {
                Ok(p) => p,
                Err(zbus::Error::MethodError(e, _, _)) if e.as_str().ends_with("NoSuchUnit") => {
                    return Ok(())
                }
                Err(e) => return Err(call_err("GetUnit", &self.unit)(e)),
            };
            match unit_property(&self.conn, &path, UNIT_INTERFACE, "ActiveState")?.as_str() {
                "inactive" => return Ok(()),
                "failed" => {
                    let _ = manager.reset_failed_unit(&self.unit);
                    return Ok(());
                }
                _ if Instant::now() > deadline => {
                    let _ = manager.stop_unit(&self.unit, "replace");
                    return Err(SystemdError::JobTimeout {
                        unit: self.unit.clone(),
                        secs: FINISH_TIMEOUT.as_secs(),
                    });
                }
                _ => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relay_is_named_after_the_scope() {
        assert_eq!(
            unit_name("md-0123456789ab.scope"),
            "md-0123456789ab-log.service"
        );
    }

    #[test]
    fn properties_carry_the_fields_and_the_lifted_limit() {
        let fields = vec![
            ("CONTAINER_NAME".to_string(), "web".to_string()),
            ("OBJECT_SYSTEMD_UNIT".to_string(), "md-x.scope".to_string()),
        ];
        let spec = RelaySpec {
            scope: "md-x.scope",
            identifier: "web",
            fields: &fields,
        };
        let (read, _write) = nix::unistd::pipe().unwrap();
        let p = properties(&spec, Some("machine.slice"), &read);
        let get = |k: &str| p.iter().find(|(n, _)| *n == k).map(|(_, v)| v);
        assert_eq!(get("LogRateLimitBurst"), Some(&Value::from(BURST)));
        assert_eq!(
            get("LogRateLimitIntervalUSec"),
            Some(&Value::from(INTERVAL_USEC))
        );
        assert_eq!(get("SyslogIdentifier"), Some(&Value::from("web")));
        assert_eq!(get("StandardOutput"), Some(&Value::from("journal")));
        let extra: Vec<Vec<u8>> = vec![
            b"CONTAINER_NAME=web".to_vec(),
            b"OBJECT_SYSTEMD_UNIT=md-x.scope".to_vec(),
        ];
        assert_eq!(get("LogExtraFields"), Some(&Value::from(extra)));
        assert_eq!(get("Slice"), Some(&Value::from("machine.slice")));
    }
}
