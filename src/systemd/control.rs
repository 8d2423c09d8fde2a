//! Acting on a running container's scope: freezing and thawing it (`mdrun pause` and
//! `unpause`, as systemd's `systemctl freeze`) and changing its limits (`mdrun update`,
//! as `systemctl set-property --runtime`), so that `systemctl status` tells the truth.

use super::bus::{self, call_err, Properties};
use super::SystemdError;

/// What systemd did with a freeze or thaw request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freezer {
    /// Done: the unit is frozen (or thawed).
    Done,
    /// systemd cannot freeze this unit (cgroup v1, or a systemd older than 246): the
    /// caller uses the cgroup freezer itself.
    Unsupported,
}

/// FreezeUnit (`freeze` true) or ThawUnit; returns once systemd has done it.
pub fn freeze(unit: &str, freeze: bool) -> Result<Freezer, SystemdError> {
    let conn = bus::connect()?;
    let manager = bus::manager(&conn)?;
    let (step, result) = match freeze {
        true => ("FreezeUnit", manager.freeze_unit(unit)),
        false => ("ThawUnit", manager.thaw_unit(unit)),
    };
    match result {
        Ok(()) => Ok(Freezer::Done),
        Err(zbus::Error::MethodError(err, _, _)) if unsupported(err.as_str()) => {
            Ok(Freezer::Unsupported)
        }
        Err(e) => Err(call_err(step, unit)(e)),
    }
}

/// "Unit does not support freezing" (v1), or no such method (an older systemd).
fn unsupported(error_name: &str) -> bool {
    matches!(
        error_name,
        "org.freedesktop.DBus.Error.NotSupported"
            | "org.freedesktop.DBus.Error.UnknownMethod"
            | "org.freedesktop.DBus.Error.NotImplemented"
    )
}

/// SetUnitProperties(unit, runtime=true, properties).
pub fn set_properties(unit: &str, properties: &Properties<'_>) -> Result<(), SystemdError> {
    let conn = bus::connect()?;
    let manager = bus::manager(&conn)?;
    manager
        .set_unit_properties(unit, true, properties)
        .map_err(call_err("SetUnitProperties", unit))
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_not_supported_and_unknown_method_fall_back() {
        assert!(super::unsupported(
            "org.freedesktop.DBus.Error.NotSupported"
        ));
        assert!(super::unsupported(
            "org.freedesktop.DBus.Error.UnknownMethod"
        ));
        assert!(!super::unsupported("org.freedesktop.systemd1.NoSuchUnit"));
        assert!(!super::unsupported(
            "org.freedesktop.DBus.Error.AccessDenied"
        ));
    }
}
