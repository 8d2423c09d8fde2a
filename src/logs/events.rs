//! Container events in the journal, for `mdrun events` to read: one entry per event with
//! `MDRUN_EVENT=<action>` (restart, health_status ...), `MDRUN_ID`, `MDRUN_NAME`, and
//! `MDRUN_HEALTH` for health_status. Without journald, nothing is written: events are a
//! view, and no operation fails for want of one. No CONTAINER_* fields: those select
//! the container's own output (`mdrun logs`).

use crate::state::{HealthStatus, Record};
use libsystemd::logging::{journal_send, Priority};

/// Write the event `action` of `record`'s container.
pub fn emit(action: &str, record: &Record, health: Option<HealthStatus>) {
    if !super::journald_available() {
        return;
    }
    let mut fields = vec![
        ("MDRUN_EVENT", action.to_string()),
        ("MDRUN_ID", record.id.clone()),
        ("MDRUN_NAME", record.name.clone()),
    ];
    let mut message = format!("container {} {action}", record.name);
    if let Some(h) = health {
        fields.push(("MDRUN_HEALTH", h.as_str().to_string()));
        message.push_str(&format!(": {}", h.as_str()));
    }
    let _ = journal_send(
        Priority::Info,
        &message,
        fields.iter().map(|(k, v)| (*k, v.as_str())),
    );
}
