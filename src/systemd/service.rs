//! The transient services systemd supervises a container with: `md-<id>.service`, whose
//! main process is `mdrun supervise <id>` (the container's supervisor, which starts it
//! attached and exits as its restart policy says), and the healthcheck's timer
//! `md-<id>-health.timer` with its service running `mdrun healthcheck run <id>`
//! (podman's way). The container itself stays in its own scope, as any other.
//!
//! Why a service of our own and not systemd's Restart=always alone: the policy needs the
//! container's exit code and a count kept across restarts (`on-failure:N`), and a stop must
//! be told from a death. So systemd's Restart=on-failure only acts on what the supervisor
//! decided: exit 1 "start me again", 0 "done" (a stop, or the policy says no more), and
//! [`NO_RESTART`] for a first start that failed, which must not loop.

use super::bus::{self, call_err, typed_property, unit_path, UNIT_INTERFACE};
use super::SystemdError;
use std::time::Duration;
use zbus::zvariant::Value;

/// The supervisor's exit status for "it never ran: do not try again" (RestartPreventExitStatus).
pub const NO_RESTART: i32 = 242;

/// How long systemd waits between a container's end and its next start.
pub const RESTART_DELAY: Duration = Duration::from_secs(1);

/// `md-<short id>.service`.
pub fn service_name(id: &str) -> String {
    format!("md-{}.service", crate::ids::short(id))
}

/// `md-<short id>-health.timer` and its `.service`.
pub fn health_units(id: &str) -> (String, String) {
    let base = format!("md-{}-health", crate::ids::short(id));
    (format!("{base}.timer"), format!("{base}.service"))
}

/// How mdrun runs itself from a unit: this binary, and the environment that selects the
/// same store and bus.
fn exec_start(args: &[&str]) -> Value<'static> {
    let exe = std::env::current_exe()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "/usr/local/bin/mdrun".into());
    let mut argv = vec![exe.clone()];
    argv.extend(args.iter().map(|s| s.to_string()));
    Value::from(vec![(exe, argv, false)])
}

fn environment() -> Value<'static> {
    let env: Vec<String> = ["MDRUN_CONFIG", "DBUS_SYSTEM_BUS_ADDRESS"]
        .iter()
        .filter_map(|k| std::env::var(k).ok().map(|v| format!("{k}={v}")))
        .collect();
    Value::from(env)
}

/// Start the supervising service of container `id` and wait until its supervisor says the
/// command runs (Type=notify, READY=1). `stop_timeout`: the container's own, which the
/// supervisor waits before SIGKILL; systemd waits longer.
pub fn start_supervisor(id: &str, name: &str, stop_timeout: Duration) -> Result<(), SystemdError> {
    let unit = service_name(id);
    let usec = |d: Duration| d.as_micros().min(u64::MAX as u128) as u64;
    let props: Vec<(&str, Value<'_>)> = vec![
        (
            "Description",
            Value::from(format!(
                "mdrun supervisor of container {name} ({})",
                crate::ids::short(id)
            )),
        ),
        ("Type", Value::from("notify")),
        ("NotifyAccess", Value::from("all")),
        ("ExecStart", exec_start(&["supervise", id])),
        ("Environment", environment()),
        ("Restart", Value::from("on-failure")),
        ("RestartUSec", Value::from(usec(RESTART_DELAY))),
        (
            "RestartPreventExitStatus",
            Value::from((vec![NO_RESTART], Vec::<i32>::new())),
        ),
        // The policy counts restarts itself; systemd's start limit would end `always`.
        ("StartLimitIntervalUSec", Value::from(0u64)),
        // SIGTERM to the supervisor only: it stops the container as `mdrun stop` would.
        ("KillMode", Value::from("mixed")),
        (
            "TimeoutStopUSec",
            Value::from(usec(stop_timeout + Duration::from_secs(10))),
        ),
        // Its output is the container's, logged by the supervisor already.
        ("StandardOutput", Value::from("null")),
        ("CollectMode", Value::from("inactive-or-failed")),
    ];
    let conn = bus::connect()?;
    let manager = bus::manager(&conn)?;
    super::job::start_and_wait(&conn, &manager, &unit, &props)
}

/// Start the healthcheck timer of container `id`: every `interval` after the last check
/// ended (the first one `interval` after the start), `mdrun healthcheck run <id>`.
pub fn start_health_timer(id: &str, interval: Duration) -> Result<(), SystemdError> {
    let (timer, service) = health_units(id);
    let usec = interval.as_micros().min(u64::MAX as u128) as u64;
    let timer_props: Vec<(&str, Value<'_>)> = vec![
        (
            "Description",
            Value::from(format!("mdrun healthcheck of {}", crate::ids::short(id))),
        ),
        (
            "TimersMonotonic",
            Value::from(vec![
                ("OnActiveSec".to_string(), usec),
                ("OnUnitInactiveSec".to_string(), usec),
            ]),
        ),
        // systemd's default accuracy is a minute: far coarser than a 30 s interval.
        (
            "AccuracyUSec",
            Value::from((usec / 10).clamp(1_000, 1_000_000)),
        ),
        ("RemainAfterElapse", Value::from(false)),
        ("CollectMode", Value::from("inactive-or-failed")),
    ];
    let service_props: Vec<(&str, Value<'_>)> = vec![
        (
            "Description",
            Value::from(format!("mdrun healthcheck of {}", crate::ids::short(id))),
        ),
        ("Type", Value::from("oneshot")),
        // "unhealthy" (exit 1) is a result, not a failure of the unit.
        ("ExecStart", {
            let exe = std::env::current_exe()
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_else(|_| "/usr/local/bin/mdrun".into());
            let argv = vec![
                exe.clone(),
                "healthcheck".into(),
                "run".into(),
                id.to_string(),
            ];
            Value::from(vec![(exe, argv, true)])
        }),
        ("Environment", environment()),
        ("CollectMode", Value::from("inactive-or-failed")),
    ];
    let aux: &[(&str, &[(&str, Value<'_>)])] = &[(service.as_str(), &service_props)];
    let conn = bus::connect()?;
    let manager = bus::manager(&conn)?;
    super::job::start_and_wait_aux(&conn, &manager, &timer, &timer_props, aux)
}

/// Stop the healthcheck's timer and a check that may be running; gone already is fine.
pub fn stop_health_timer(id: &str) -> Result<(), SystemdError> {
    let (timer, service) = health_units(id);
    super::stop_unit(&timer)?;
    super::stop_unit(&service)
}

/// Is `unit` loaded and active, activating (waiting to restart included) or deactivating?
pub fn unit_running(unit: &str) -> Result<bool, SystemdError> {
    let conn = bus::connect()?;
    let manager = bus::manager(&conn)?;
    match manager.get_unit(unit) {
        Ok(_) => {}
        Err(zbus::Error::MethodError(err, _, _)) if err.as_str().ends_with("NoSuchUnit") => {
            return Ok(false)
        }
        Err(e) => return Err(call_err("GetUnit", unit)(e)),
    }
    let state: String = typed_property(&conn, &unit_path(unit), UNIT_INTERFACE, "ActiveState")?;
    Ok(matches!(
        state.as_str(),
        "active" | "activating" | "deactivating" | "reloading"
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn unit_names_use_the_short_id() {
        let id = "0123456789abcdef".repeat(4);
        assert_eq!(super::service_name(&id), "md-0123456789ab.service");
        assert_eq!(
            super::health_units(&id),
            (
                "md-0123456789ab-health.timer".to_string(),
                "md-0123456789ab-health.service".to_string()
            )
        );
    }
}
