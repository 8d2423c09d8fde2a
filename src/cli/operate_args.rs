//! Options of the verbs that operate running containers (`pause`, `unpause`, `update`,
//! `stats`, `top`, `rename`, `cp`, `diff`, `events`), with docker's names and meanings.

#[derive(Debug, clap::Args)]
pub struct PauseArgs {
    /// Containers (name, id or id prefix)
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct UpdateArgs {
    #[command(flatten)]
    pub limits: super::limit_args::LimitArgs,
    /// Restart policy: no, on-failure[:N], always, unless-stopped
    #[arg(long)]
    pub restart: Option<String>,
    /// Containers (name, id or id prefix)
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct StatsArgs {
    /// Print one table and exit (also what happens when stdout is not a terminal)
    #[arg(long)]
    pub no_stream: bool,
    /// Output format: `table` or `json` (one object a line)
    #[arg(long, default_value = "table")]
    pub format: String,
    /// Containers (name, id or id prefix); default: every running one
    pub containers: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct TopArgs {
    /// Container (name, id or id prefix)
    pub container: String,
    /// Options for ps (default -ef)
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub ps_args: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct RenameArgs {
    /// Container (name, id or id prefix)
    pub container: String,
    /// Its new name
    pub new_name: String,
}

#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// Container (name, id or id prefix)
    pub container: String,
}

#[derive(Debug, clap::Args)]
pub struct CpArgs {
    /// CONTAINER:SRC_PATH, a host path, or `-` (a tar stream on stdin)
    pub src: String,
    /// CONTAINER:DEST_PATH, a host path, or `-` (a tar stream on stdout)
    pub dest: String,
}

#[derive(Debug, clap::Args)]
pub struct CompletionArgs {
    /// The shell: bash, zsh, fish (also elvish, powershell)
    pub shell: clap_complete::Shell,
}

#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Directory to write mdrun.1 and mdrun-VERB.1 into
    pub dir: String,
}

#[derive(Debug, clap::Args)]
pub struct EventsArgs {
    /// Show events since a time (RFC 3339, Unix seconds, or 10m, 2h ago)
    #[arg(long)]
    pub since: Option<String>,
    /// Stop at a time (same forms); without it, follow new events
    #[arg(long)]
    pub until: Option<String>,
    /// Filter: container=NAME|ID, event=ACTION, image=IMAGE
    #[arg(short, long = "filter")]
    pub filter: Vec<String>,
    /// `json` (one object a line) or a Go template (`{{.Action}} {{.Actor.ID}}`)
    #[arg(long, default_value = "")]
    pub format: String,
    /// Read the journal's copy of the events (systemd containers) instead of events.log
    #[arg(long)]
    pub journal: bool,
}
