//! Command-line arguments, apart from the logic (youki's layout): `commands::*` take these
//! structs, call the container library (`container`) and print. `run` is the default verb, so `mdrun --memory 100m busybox sh`
//! means `mdrun run --memory 100m busybox sh`.

mod exec_args;
mod image_args;
mod lifecycle_args;
mod limit_args;
mod network_args;
pub mod oci_args;
mod operate_args;
mod registry_args;
mod run_args;
mod supervision_args;

pub use exec_args::ExecArgs;
pub use image_args::{CommitArgs, ExportArgs, LoadArgs, SaveArgs};
pub use lifecycle_args::{
    InspectArgs, KillArgs, LogsArgs, PruneArgs, PsArgs, RmArgs, StartArgs, StopArgs, WaitArgs,
};
pub use limit_args::LimitArgs;
pub use network_args::{
    NetworkArgs, NetworkCommand, NetworkCreateArgs, NetworkLsArgs, NetworkNamesArgs, PortArgs,
};
pub use operate_args::{
    CompletionArgs, CpArgs, DiffArgs, EventsArgs, ManArgs, PauseArgs, RenameArgs, StatsArgs,
    TopArgs, UpdateArgs,
};
pub use registry_args::{LoginArgs, LogoutArgs, PullArgs, PushArgs, RegistryArgs};
pub use run_args::{NetArgs, RunArgs};
pub use supervision_args::{HealthcheckAction, HealthcheckArgs, RestartArgs, SuperviseArgs};

use clap::{Parser, Subcommand};
use std::ffi::OsString;

#[derive(Debug, Parser)]
#[command(
    name = "mdrun",
    version,
    about = "A small container runtime native to systemd",
    long_about = "A small container runtime native to systemd.\n\n\
                  `mdrun [OPTIONS] IMAGE [COMMAND...]` is short for `mdrun run ...`."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per process: the size of the largest variant (`run`'s options) does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a command in a new container (the default verb)
    Run(RunArgs),
    /// Import a root filesystem tarball (plain, gzip or zstd) as an image
    Import(ImportArgs),
    /// List images
    Images(ImagesArgs),
    /// Remove images
    Rmi(RmiArgs),
    /// Run a command in a running container
    Exec(ExecArgs),
    /// Start one or more stopped containers
    Start(StartArgs),
    /// Fetch the logs of a container
    Logs(LogsArgs),
    /// List containers
    Ps(PsArgs),
    /// Show containers or images as JSON
    Inspect(InspectArgs),
    /// Stop containers: SIGTERM, then SIGKILL after a timeout
    Stop(StopArgs),
    /// Send a signal to containers
    Kill(KillArgs),
    /// Wait until containers stop, then print their exit codes
    Wait(WaitArgs),
    /// Remove containers
    Rm(RmArgs),
    /// Remove all stopped containers and what killed commands left behind
    Prune(PruneArgs),
    /// Create a new image from a container's changes
    Commit(CommitArgs),
    /// Write a container's root filesystem as a tar archive
    Export(ExportArgs),
    /// Write images to an OCI archive
    Save(SaveArgs),
    /// Load images from an OCI or docker archive
    Load(LoadArgs),
    /// Pull an image from a registry
    Pull(PullArgs),
    /// Push an image to a registry: push IMAGE [DEST]
    Push(PushArgs),
    /// Log in to a registry (credentials kept in auth.json, as podman keeps them)
    Login(LoginArgs),
    /// Log out of a registry
    Logout(LogoutArgs),
    /// Give an image another name: tag SOURCE TARGET
    Tag(TagArgs),
    /// Show how an image was made, newest step first
    History(HistoryArgs),
    /// Restart containers: stop, then start
    Restart(RestartArgs),
    /// Run a container's healthcheck
    Healthcheck(HealthcheckArgs),
    /// The supervisor a restart policy's systemd service runs (internal)
    #[command(hide = true)]
    Supervise(SuperviseArgs),
    /// Manage networks: create, ls, inspect, rm, prune
    Network(NetworkArgs),
    /// List a container's published ports
    Port(PortArgs),
    /// Pause all processes within containers (the cgroup freezer)
    Pause(PauseArgs),
    /// Unpause all processes within containers
    Unpause(PauseArgs),
    /// Change the limits of containers, live
    Update(UpdateArgs),
    /// Show what running containers use: CPU, memory, network and block I/O, processes
    Stats(StatsArgs),
    /// Show the processes of a container: top CONTAINER [ps OPTIONS]
    Top(TopArgs),
    /// Rename a container: rename CONTAINER NEW_NAME
    Rename(RenameArgs),
    /// Show what changed in a container's files: A added, C changed, D deleted
    Diff(DiffArgs),
    /// Copy files between a container and the host: cp CONTAINER:SRC DEST|- or cp SRC|- CONTAINER:DEST
    Cp(CpArgs),
    /// Show container events (create, start, die, pause ...), then follow new ones
    Events(EventsArgs),
    /// Print a shell completion script: completion bash|zsh|fish
    Completion(CompletionArgs),
    /// Write the man pages into a directory (install.sh runs it)
    #[command(name = "__man", hide = true)]
    Man(ManArgs),
}

#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    /// Do not truncate CREATED BY
    #[arg(long)]
    pub no_trunc: bool,
    /// Only show image ids
    #[arg(short, long)]
    pub quiet: bool,
    /// Image (NAME[:TAG], id or id prefix)
    pub image: String,
}

#[derive(Debug, clap::Args)]
pub struct TagArgs {
    /// Image (NAME[:TAG], id or id prefix)
    pub source: String,
    /// NAME[:TAG] to give it
    pub target: String,
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// Tarball to import, or `-` for standard input
    pub file: String,
    /// NAME[:TAG] for the new image
    pub reference: String,
}

#[derive(Debug, clap::Args)]
pub struct ImagesArgs {
    /// Only show image ids
    #[arg(short, long)]
    pub quiet: bool,
    /// Output format: `table`, `json` or a Go template (`{{.Repository}}:{{.Tag}}`)
    #[arg(long, default_value = "table")]
    pub format: String,
    /// Show the manifest digest each name was pulled or pushed as
    #[arg(long)]
    pub digests: bool,
}

#[derive(Debug, clap::Args)]
pub struct RmiArgs {
    /// Images to remove (NAME[:TAG], id or id prefix)
    #[arg(required = true)]
    pub images: Vec<String>,
}

/// The verbs that are not `run`; anything else in first position is an argument of `run`.
const VERBS: &[&str] = &[
    "run", "import", "images", "rmi", "exec", "start", "logs", "ps", "inspect", "stop", "kill",
    "wait", "rm", "prune", "commit", "export", "save", "load", "pull", "push", "login", "logout",
    "tag", "history", "network", "port", "help",
];

/// The verbs of restart policies and healthchecks (`supervise` is systemd's, hidden).
const SUPERVISION_VERBS: &[&str] = &["restart", "healthcheck", "supervise"];
/// The verbs that operate running containers, and the shell helpers.
#[rustfmt::skip]
const OPERATE_VERBS: &[&str] = &[
    "pause", "unpause", "update", "stats", "top", "rename", "diff", "cp", "events",
    "completion", "__man",
];

/// Insert the implicit `run` verb: `mdrun --memory 100m busybox sh` -> `mdrun run --memory ...`.
pub fn with_default_verb(mut args: Vec<OsString>) -> Vec<OsString> {
    let first = args.get(1).and_then(|a| a.to_str()).unwrap_or("");
    let keep = first.is_empty()
        || VERBS.contains(&first)
        || SUPERVISION_VERBS.contains(&first)
        || OPERATE_VERBS.contains(&first)
        || matches!(first, "--help" | "-V" | "--version")
        || (first == "-h" && args.len() == 2);
    if !keep {
        args.insert(1, OsString::from("run"));
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Cli {
        let args = line.split_whitespace().map(OsString::from).collect();
        Cli::try_parse_from(with_default_verb(args)).unwrap()
    }

    #[test]
    fn run_is_the_default_verb() {
        let cli = parse("mdrun --memory 100m busybox sh");
        let Command::Run(r) = cli.command else {
            panic!("not run")
        };
        assert_eq!(r.limits.memory.as_deref(), Some("100m"));
        assert_eq!(r.image.as_deref(), Some("busybox"));
        assert_eq!(r.command, vec!["sh"]);
    }

    #[test]
    fn options_after_the_image_belong_to_the_command() {
        let cli = parse("mdrun run -it --rm busybox ls -l /");
        let Command::Run(r) = cli.command else {
            panic!("not run")
        };
        assert!(r.tty && r.interactive && r.rm);
        assert_eq!(r.command, vec!["ls", "-l", "/"]);
    }

    #[test]
    fn dash_h_is_hostname_for_run() {
        let cli = parse("mdrun -h box busybox hostname");
        let Command::Run(r) = cli.command else {
            panic!("not run")
        };
        assert_eq!(r.hostname.as_deref(), Some("box"));
    }

    #[test]
    fn every_subcommand_is_a_verb() {
        use clap::CommandFactory;
        for sub in Cli::command().get_subcommands() {
            assert!(
                VERBS.contains(&sub.get_name())
                    || OPERATE_VERBS.contains(&sub.get_name())
                    || SUPERVISION_VERBS.contains(&sub.get_name()),
                "{} is not in VERBS",
                sub.get_name()
            );
        }
    }

    #[test]
    fn verbs_are_kept() {
        assert!(matches!(parse("mdrun images").command, Command::Images(_)));
        assert!(matches!(
            parse("mdrun import x.tar busybox").command,
            Command::Import(_)
        ));
    }
}
