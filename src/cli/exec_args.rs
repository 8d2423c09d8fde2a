//! `mdrun exec` and `mdrun start` options, with docker's names and meanings.

#[derive(Debug, clap::Args)]
#[command(disable_help_flag = true)]
pub struct ExecArgs {
    /// Keep STDIN open
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Allocate a pseudo-TTY
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Set environment variables (KEY=VALUE)
    #[arg(short = 'e', long = "env")]
    pub env: Vec<String>,
    /// Working directory inside the container
    #[arg(short = 'w', long)]
    pub workdir: Option<String>,
    /// Username or UID[:GID]
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    /// Print help
    #[arg(long, action = clap::ArgAction::Help)]
    pub help: Option<bool>,
    /// Container (name, id or unique id prefix)
    pub container: String,
    /// Command and arguments
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct StartArgs {
    /// Attach to the container's output and wait for it (like `run` without -d)
    #[arg(short = 'a', long)]
    pub attach: bool,
    /// Attach the container's STDIN
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Containers to start
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct LogsArgs {
    /// Follow log output until the container stops
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// Number of lines to show from the end of the logs (or "all")
    #[arg(short = 'n', long, default_value = "all")]
    pub tail: String,
    /// Show logs since a timestamp (RFC 3339, Unix seconds) or a relative time (42m, 2h, 10s)
    #[arg(long)]
    pub since: Option<String>,
    /// Show timestamps
    #[arg(short = 't', long)]
    pub timestamps: bool,
    /// Container (name, id or unique id prefix)
    pub container: String,
}
