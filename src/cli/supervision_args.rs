//! Options of the verbs around restart policies and healthchecks: `restart`,
//! `healthcheck run`, and the hidden `supervise` a policy's systemd service runs.

#[derive(Debug, clap::Args)]
pub struct RestartArgs {
    /// Seconds to wait after SIGTERM before killing it (negative: wait forever)
    #[arg(
        short = 't',
        long = "time",
        visible_alias = "timeout",
        default_value_t = 10,
        allow_hyphen_values = true
    )]
    pub time: i64,
    /// Containers (name, id or id prefix)
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct HealthcheckArgs {
    #[command(subcommand)]
    pub action: HealthcheckAction,
}

#[derive(Debug, clap::Subcommand)]
pub enum HealthcheckAction {
    /// Run the container's healthcheck once: exit 0 healthy, 1 unhealthy
    Run {
        /// Container (name, id or id prefix)
        container: String,
    },
}

#[derive(Debug, clap::Args)]
pub struct SuperviseArgs {
    /// Start every container whose restart policy brings it back at boot
    /// (units/mdrun-restart.service)
    #[arg(long, conflicts_with = "id")]
    pub boot: bool,
    /// The container's full id
    #[arg(required_unless_present = "boot")]
    pub id: Option<String>,
}
