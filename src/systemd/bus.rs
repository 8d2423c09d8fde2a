//! mdrun's side of the system bus: the one connection per process, the part of systemd's
//! D-Bus API mdrun uses as a blocking zbus proxy written by hand (zbus_systemd is
//! async-only, on zbus 6, and generates thousands of methods; see
//! org.freedesktop.systemd1(5)), and the helpers the scope and the journal relay share
//! (unit paths, properties, errors).

use super::job::START_TIMEOUT;
use super::SystemdError;
use zbus::blocking::Connection;
use zbus::zvariant::{OwnedObjectPath, Value};

/// `a(sv)`: a unit's properties, as StartTransientUnit takes them.
pub type Properties<'a> = Vec<(&'a str, Value<'a>)>;

#[zbus::proxy(
    interface = "org.freedesktop.systemd1.Manager",
    default_service = "org.freedesktop.systemd1",
    default_path = "/org/freedesktop/systemd1",
    gen_async = false,
    blocking_name = "SystemdManagerProxy"
)]
pub trait SystemdManager {
    /// Returns the job's object path; the unit runs once that job is removed with "done".
    fn start_transient_unit(
        &self,
        name: &str,
        mode: &str,
        properties: &[(&str, Value<'_>)],
        aux: &[(&str, &[(&str, Value<'_>)])],
    ) -> zbus::Result<OwnedObjectPath>;

    fn reset_failed_unit(&self, name: &str) -> zbus::Result<()>;

    /// Fails with org.freedesktop.systemd1.NoSuchUnit when the unit is not loaded.
    fn get_unit(&self, name: &str) -> zbus::Result<OwnedObjectPath>;

    /// The unit `pid` belongs to; fails with org.freedesktop.systemd1.NoUnitForPID when it
    /// is in none (a cgroup systemd does not manage).
    #[zbus(name = "GetUnitByPID")]
    fn get_unit_by_pid(&self, pid: u32) -> zbus::Result<OwnedObjectPath>;

    /// Loads the unit (from disk, if it has a file) and returns its path.
    fn load_unit(&self, name: &str) -> zbus::Result<OwnedObjectPath>;

    fn stop_unit(&self, name: &str, mode: &str) -> zbus::Result<OwnedObjectPath>;

    fn kill_unit(&self, name: &str, whom: &str, signal: i32) -> zbus::Result<()>;

    /// Freezes the unit's cgroup (systemd 246 and later, cgroup v2 only); returns once it
    /// is frozen. org.freedesktop.DBus.Error.NotSupported where systemd cannot freeze.
    fn freeze_unit(&self, name: &str) -> zbus::Result<()>;

    fn thaw_unit(&self, name: &str) -> zbus::Result<()>;

    /// Changes properties of a running unit (`runtime`: until it stops, not on disk).
    fn set_unit_properties(
        &self,
        name: &str,
        runtime: bool,
        properties: &[(&str, Value<'_>)],
    ) -> zbus::Result<()>;

    /// Emitted when a job ends; `result` is "done", "canceled", "timeout", "failed",
    /// "dependency" or "skipped".
    #[zbus(signal)]
    fn job_removed(&self, id: u32, job: OwnedObjectPath, unit: String, result: String);
}

/// The interface name for reading a unit's properties through org.freedesktop.DBus.Properties.
pub const UNIT_INTERFACE: &str = "org.freedesktop.systemd1.Unit";
pub const SERVICE_INTERFACE: &str = "org.freedesktop.systemd1.Service";
pub const SCOPE_INTERFACE: &str = "org.freedesktop.systemd1.Scope";
pub const DESTINATION: &str = "org.freedesktop.systemd1";

/// Connect to the system bus, once per process: the scope, the journal relay's check and
/// its unit share one connection (each new one is a socket, an authentication, a Hello and
/// zbus's threads: milliseconds on every `run`). Starts zbus's threads: never call this
/// before the container's init has been cloned, nor fork after it.
pub fn connect() -> Result<Connection, SystemdError> {
    static BUS: std::sync::Mutex<Option<Connection>> = std::sync::Mutex::new(None);
    let mut bus = BUS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(conn) = bus.as_ref() {
        return Ok(conn.clone());
    }
    // The socket `available()` connected and began authenticating, else a new one.
    let early = super::handshake::finish(START_TIMEOUT).and_then(|(stream, guid)| {
        let stream = async_io::Async::new(stream).ok()?;
        zbus::blocking::connection::Builder::authenticated_socket(stream, guid.as_str())
            .and_then(|b| b.method_timeout(START_TIMEOUT).build())
            .ok()
    });
    let conn = match early {
        Some(conn) => conn,
        None => zbus::blocking::connection::Builder::system()
            .and_then(|b| b.method_timeout(START_TIMEOUT).build())
            .map_err(|source| SystemdError::Connect {
                source: Box::new(source),
            })?,
    };
    *bus = Some(conn.clone());
    Ok(conn)
}

/// The manager's proxy on `conn`.
pub(super) fn manager(conn: &Connection) -> Result<SystemdManagerProxy<'static>, SystemdError> {
    SystemdManagerProxy::new(conn).map_err(call_err("connect to", DESTINATION))
}

/// A loaded unit's object path: `/org/freedesktop/systemd1/unit/` and the name with every
/// byte but `[A-Za-z0-9]` written `_xx` (sd-bus's bus_label_escape).
pub(super) fn unit_path(unit: &str) -> OwnedObjectPath {
    let mut p = String::from("/org/freedesktop/systemd1/unit/");
    for b in unit.bytes() {
        if b.is_ascii_alphanumeric() {
            p.push(b as char);
        } else {
            p.push_str(&format!("_{b:02x}"));
        }
    }
    OwnedObjectPath::try_from(p).expect("an escaped unit name is a valid object path")
}

pub(super) fn unit_property(
    conn: &Connection,
    path: &OwnedObjectPath,
    interface: &'static str,
    prop: &str,
) -> Result<String, SystemdError> {
    typed_property(conn, path, interface, prop)
}

/// One property of the object at `path`, as `T` (String, u64, u32, bool ...).
pub(super) fn typed_property<T>(
    conn: &Connection,
    path: &OwnedObjectPath,
    interface: &'static str,
    prop: &str,
) -> Result<T, SystemdError>
where
    T: TryFrom<zbus::zvariant::OwnedValue, Error = zbus::zvariant::Error>,
{
    let props = zbus::blocking::fdo::PropertiesProxy::builder(conn)
        .destination(DESTINATION)
        .and_then(|b| b.path(path.clone()))
        .and_then(|b| b.cache_properties(zbus::proxy::CacheProperties::No).build())
        .map_err(call_err("Properties of", path.as_str()))?;
    let iface = zbus::names::InterfaceName::from_static_str_unchecked(interface);
    let value = props.get(iface, prop).map_err(|e| SystemdError::Call {
        step: "Get",
        what: format!("{prop} of {}", path.as_str()),
        source: Box::new(e.into()),
    })?;
    T::try_from(value).map_err(|e| SystemdError::Call {
        step: "Get",
        what: format!("{prop} of {}", path.as_str()),
        source: Box::new(e.into()),
    })
}

pub(super) fn call_err(step: &'static str, what: &str) -> impl FnOnce(zbus::Error) -> SystemdError {
    let what = what.to_string();
    move |source| SystemdError::Call {
        step,
        what,
        source: Box::new(source),
    }
}

#[cfg(test)]
mod tests {
    use super::unit_path;

    #[test]
    fn unit_paths_are_escaped_like_sd_bus_does() {
        assert_eq!(
            unit_path("md-0123abcd4567.scope").as_str(),
            "/org/freedesktop/systemd1/unit/md_2d0123abcd4567_2escope"
        );
        assert_eq!(
            unit_path("-.slice").as_str(),
            "/org/freedesktop/systemd1/unit/_2d_2eslice"
        );
    }
}
