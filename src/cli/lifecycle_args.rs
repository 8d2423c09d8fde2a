//! Options of the verbs that act on existing containers (`ps`, `inspect`, `stop`, `kill`,
//! `wait`, `rm`, `prune`), with docker's names and meanings.

#[derive(Debug, clap::Args)]
pub struct PsArgs {
    /// Show all containers (default shows just running)
    #[arg(short, long)]
    pub all: bool,
    /// Only display container ids
    #[arg(short, long)]
    pub quiet: bool,
    /// Output format: `table` or `json`
    #[arg(long, default_value = "table")]
    pub format: String,
    /// Don't truncate output (full ids and commands)
    #[arg(long)]
    pub no_trunc: bool,
}

#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// Containers (name, id or id prefix) or images
    #[arg(required = true)]
    pub targets: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct StopArgs {
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
pub struct KillArgs {
    /// Signal to send: a name (KILL, SIGTERM, RTMIN+1) or a number
    #[arg(short, long, default_value = "KILL")]
    pub signal: String,
    /// Containers (name, id or id prefix)
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct WaitArgs {
    /// Containers (name, id or id prefix)
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct RmArgs {
    /// Kill a running container first
    #[arg(short, long)]
    pub force: bool,
    /// Remove the container's anonymous volumes too (named volumes are always kept)
    #[arg(short, long)]
    pub volumes: bool,
    /// Containers (name, id or id prefix)
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct PruneArgs {
    /// Accepted for docker compatibility: mdrun never asks for confirmation
    #[arg(short, long)]
    pub force: bool,
}
