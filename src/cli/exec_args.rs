//! `mdrun exec` options, with docker's names and meanings.

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
