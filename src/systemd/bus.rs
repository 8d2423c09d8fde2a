//! The part of systemd's D-Bus API mdrun uses, as a blocking zbus proxy written by hand
//! (zbus_systemd is async-only, on zbus 6, and generates thousands of methods).
//! See org.freedesktop.systemd1(5).

use zbus::zvariant::{OwnedObjectPath, Value};

/// `a(sv)`: a unit's properties, as StartTransientUnit takes them.
pub type Properties<'a> = Vec<(&'a str, Value<'a>)>;

#[zbus::proxy(
    interface = "org.freedesktop.systemd1.Manager",
    default_service = "org.freedesktop.systemd1",
    default_path = "/org/freedesktop/systemd1",
    gen_async = false,
    blocking_name = "ManagerProxy"
)]
pub trait Manager {
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
