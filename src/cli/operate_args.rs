//! Options of the verbs that operate running containers (`pause`, `unpause`, `update`,
//! `stats`, `top`, `rename`, `cp`, `diff`, `events`), with docker's names and meanings.

#[derive(Debug, clap::Args)]
pub struct PauseArgs {
    /// Containers (name, id or id prefix)
    #[arg(required = true)]
    pub containers: Vec<String>,
}
