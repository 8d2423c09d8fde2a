//! Starting a transient unit and waiting until systemd says it runs.
//!
//! The order is the one runc and crun learnt the hard way: listen for `JobRemoved` *before*
//! `StartTransientUnit`, because the job can end before the call returns (runc issue 1780,
//! PR 2614); then match the job path the call returned. No `Subscribe()`: systemd sends a
//! job's JobRemoved to the client that asked for the job whether or not it subscribed (the
//! job tracks its requester: src/core/dbus-job.c, bus_foreach_bus with j->bus_track), as
//! go-systemd, and so runc, rely on. Subscribing would make systemd also send every unit's
//! PropertiesChanged, UnitNew and JobNew for as long as we wait, and cost two calls. A failed
//! unit of the same name, left over from an earlier run, makes the start fail:
//! `ResetFailedUnit` first (crun issue 1138).

use super::bus::{call_err, SystemdManagerProxy};
use super::SystemdError;
use futures_lite::StreamExt;
use std::time::Duration;
use zbus::blocking::Connection;
use zbus::zvariant::{OwnedObjectPath, Value};

/// How long systemd gets to start a unit. Starting one takes milliseconds; this only
/// bounds a hung or overloaded systemd.
pub const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The JobRemoved signals of systemd's manager object, as dbus-daemon filters them.
const JOB_REMOVED_RULE: &str = "type='signal',sender='org.freedesktop.systemd1',\
    path='/org/freedesktop/systemd1',interface='org.freedesktop.systemd1.Manager',\
    member='JobRemoved'";

/// StartTransientUnit's auxiliary units: `a(sa(sv))`.
pub type Aux<'a> = &'a [(&'a str, &'a [(&'a str, Value<'a>)])];

/// A JobRemoved signal: who sent it, for which job, with what result.
struct Removed {
    sender: Option<String>,
    job: OwnedObjectPath,
    result: String,
}

/// Start `unit` with `props` and wait for its start job to end in "done".
///
/// Over the connection itself, not a proxy's signal stream: a proxy would first ask for
/// systemd's unique name and watch NameOwnerChanged (two round trips and two more
/// messages when done). AddMatch is sent without waiting for its answer: the bus handles a
/// client's messages in order, so the rule is in place before StartTransientUnit reaches
/// systemd. A JobRemoved counts only from the sender that answered the call (any client
/// may send a signal that looks like systemd's).
pub fn start_and_wait(
    conn: &Connection,
    manager: &SystemdManagerProxy<'_>,
    unit: &str,
    props: &[(&str, Value<'_>)],
) -> Result<(), SystemdError> {
    start_and_wait_aux(conn, manager, unit, props, &[])
}

/// [`start_and_wait`] with auxiliary units made in the same call (a timer's service).
pub fn start_and_wait_aux(
    conn: &Connection,
    manager: &SystemdManagerProxy<'_>,
    unit: &str,
    props: &[(&str, Value<'_>)],
    aux: Aux<'_>,
) -> Result<(), SystemdError> {
    // Every message from here on, replies and signals alike.
    let mut stream = zbus::MessageStream::from(conn.inner());
    let listen = || call_err("listen for JobRemoved", unit);
    let rule = bus_call("AddMatch", JOB_REMOVED_RULE).map_err(listen())?;
    conn.send(&rule).map_err(listen())?;
    crate::stop_point::reached("systemd:subscribed");
    let deadline = async_io::Timer::after(START_TIMEOUT);
    let work = async {
        let mut seen = Vec::new();
        let started = match start(conn, &mut stream, &mut seen, unit, props, aux).await {
            // A failed (or inactive) leftover of the same name: reset it and try once more
            // (an active unit keeps running, and the second try says it exists). Asked
            // only then: one round trip less on every start.
            Err(e) if unit_exists(&e) => {
                let _ = manager
                    .inner()
                    .inner()
                    .call_method("ResetFailedUnit", &(unit,))
                    .await;
                start(conn, &mut stream, &mut seen, unit, props, aux).await
            }
            other => other,
        };
        let (job, systemd) = started.map_err(|source| match &source {
            _ if unit_exists(&source) => SystemdError::UnitExists { unit: unit.into() },
            // The bus went away under us: not systemd's answer.
            zbus::Error::InputOutput(_) => SystemdError::Disconnected { unit: unit.into() },
            _ => SystemdError::Rejected {
                unit: unit.into(),
                source: Box::new(source),
            },
        })?;
        let ours = |r: &Removed| r.job == job && r.sender.as_deref() == systemd.as_deref();
        if let Some(r) = seen.into_iter().find(ours) {
            return Ok(r.result);
        }
        while let Some(msg) = stream.next().await {
            if let Some(r) = msg.ok().as_ref().and_then(job_removed) {
                if ours(&r) {
                    return Ok(r.result);
                }
            }
        }
        Err(SystemdError::Disconnected { unit: unit.into() })
    };
    let timeout = async {
        deadline.await;
        Err(SystemdError::JobTimeout {
            unit: unit.into(),
            secs: START_TIMEOUT.as_secs(),
        })
    };
    let result = zbus::block_on(futures_lite::future::or(work, timeout));
    // Not waited for: nothing depends on its answer.
    if let Ok(msg) = bus_call("RemoveMatch", JOB_REMOVED_RULE) {
        let _ = conn.send(&msg);
    }
    let result = result?;
    if result != "done" {
        // A failed start can leave the unit loaded as "failed"; clear it for the next run.
        let _ = manager.reset_failed_unit(unit);
        return Err(SystemdError::JobFailed {
            unit: unit.into(),
            result,
        });
    }
    Ok(())
}

/// Sends StartTransientUnit and reads until its answer: the job's path and systemd's
/// unique name. JobRemoved signals that come first (the job may end before the answer
/// leaves systemd: runc issue 1780) are kept in `seen`.
async fn start(
    conn: &Connection,
    stream: &mut zbus::MessageStream,
    seen: &mut Vec<Removed>,
    unit: &str,
    props: &[(&str, Value<'_>)],
    aux: Aux<'_>,
) -> zbus::Result<(OwnedObjectPath, Option<String>)> {
    let call = zbus::Message::method_call("/org/freedesktop/systemd1", "StartTransientUnit")?
        .destination(super::bus::DESTINATION)?
        .interface("org.freedesktop.systemd1.Manager")?
        .build(&(unit, "fail", props, aux))?;
    let serial = call.primary_header().serial_num();
    conn.inner().send(&call).await?;
    while let Some(msg) = stream.next().await {
        let msg = msg?;
        let header = msg.header();
        if header.reply_serial() == Some(serial) {
            return match msg.message_type() {
                zbus::message::Type::MethodReturn => {
                    let sender = header.sender().map(|s| s.to_string());
                    let job: OwnedObjectPath = msg.body().deserialize()?;
                    Ok((job, sender))
                }
                _ => Err(zbus::Error::from(msg.clone())),
            };
        }
        if let Some(r) = job_removed(&msg) {
            seen.push(r);
        }
    }
    Err(zbus::Error::InputOutput(std::sync::Arc::new(
        std::io::ErrorKind::UnexpectedEof.into(),
    )))
}

/// The message as a JobRemoved signal of systemd's manager, if it is one.
fn job_removed(msg: &zbus::Message) -> Option<Removed> {
    let header = msg.header();
    let is_it = msg.message_type() == zbus::message::Type::Signal
        && header.member().is_some_and(|m| m.as_str() == "JobRemoved")
        && header
            .interface()
            .is_some_and(|i| i.as_str() == "org.freedesktop.systemd1.Manager");
    if !is_it {
        return None;
    }
    let (_id, job, _unit, result) = msg
        .body()
        .deserialize::<(u32, OwnedObjectPath, String, String)>()
        .ok()?;
    Some(Removed {
        sender: header.sender().map(|s| s.to_string()),
        job,
        result,
    })
}

/// A call to the bus itself (AddMatch, RemoveMatch) with one string argument.
fn bus_call(method: &'static str, arg: &str) -> zbus::Result<zbus::Message> {
    zbus::Message::method_call("/org/freedesktop/DBus", method)?
        .destination("org.freedesktop.DBus")?
        .interface("org.freedesktop.DBus")?
        .build(&(arg,))
}

fn unit_exists(e: &zbus::Error) -> bool {
    matches!(e, zbus::Error::MethodError(name, _, _) if name.as_str() == "org.freedesktop.systemd1.UnitExists")
}
