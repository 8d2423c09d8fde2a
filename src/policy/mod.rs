//! What a container asks of its supervision: a restart policy (`--restart`) and a
//! healthcheck (`--health-*`, the image's HEALTHCHECK). Pure types and decisions; systemd
//! carries them out (`systemd::service`, `systemd::health_timer`, `container::supervised`,
//! `container::health`).

mod duration;
mod health;
mod restart;

pub use duration::duration;
pub use health::{HealthArgs, HealthConfig};
pub use restart::{RestartName, RestartPolicy};
