//! Options of the verbs that act on existing containers (`ps`, `inspect`, `start`, `stop`,
//! `kill`, `wait`, `rm`, `prune`, `logs`), with docker's names and meanings.

#[derive(Debug, clap::Args)]
pub struct PsArgs {
    /// Show all containers (default shows just running)
    #[arg(short, long)]
    pub all: bool,
    /// Only display container ids
    #[arg(short, long)]
    pub quiet: bool,
    /// Output format: `table`, `json`, or a Go template (`{{.Names}}\t{{.Status}}`,
    /// `table {{.ID}}\t{{.Image}}`)
    #[arg(long, default_value = "table")]
    pub format: String,
    /// Don't truncate output (full ids and commands)
    #[arg(long)]
    pub no_trunc: bool,
    /// Filter: name=, id=, status=, label=KEY[=VALUE], ancestor=IMAGE
    #[arg(short, long = "filter")]
    pub filter: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// A Go template for each object (`{{.State.Status}}`, `{{json .Config}}`)
    #[arg(short, long)]
    pub format: Option<String>,
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

#[cfg(test)]
mod tests {
    use crate::cli::{with_default_verb, Cli, Command};
    use clap::Parser;
    use std::ffi::OsString;

    fn parse(line: &str) -> Command {
        let args = line.split_whitespace().map(OsString::from).collect();
        Cli::try_parse_from(with_default_verb(args))
            .unwrap()
            .command
    }

    #[test]
    fn lifecycle_verbs_are_verbs_not_images() {
        let Command::Ps(ps) = parse("mdrun ps -aq --no-trunc") else {
            panic!("not ps")
        };
        assert!(ps.all && ps.quiet && ps.no_trunc);
        assert_eq!(ps.format, "table");
        let Command::Stop(stop) = parse("mdrun stop -t 3 a b") else {
            panic!("not stop")
        };
        assert_eq!((stop.time, stop.containers.len()), (3, 2));
        let Command::Stop(stop) = parse("mdrun stop --time -1 a") else {
            panic!("not stop")
        };
        assert_eq!(stop.time, -1);
        let Command::Stop(stop) = parse("mdrun stop a") else {
            panic!("not stop")
        };
        assert_eq!(stop.time, 10);
        let Command::Kill(kill) = parse("mdrun kill x") else {
            panic!("not kill")
        };
        assert_eq!(kill.signal, "KILL");
        let Command::Kill(kill) = parse("mdrun kill -s TERM x") else {
            panic!("not kill")
        };
        assert_eq!(kill.signal, "TERM");
        let Command::Rm(rm) = parse("mdrun rm -fv x") else {
            panic!("not rm")
        };
        assert!(rm.force && rm.volumes);
        assert!(matches!(parse("mdrun wait x y"), Command::Wait(w) if w.containers == ["x", "y"]));
        assert!(matches!(parse("mdrun inspect x"), Command::Inspect(_)));
        assert!(matches!(parse("mdrun prune"), Command::Prune(_)));
    }

    #[test]
    fn container_arguments_are_required() {
        for line in [
            "mdrun stop",
            "mdrun kill",
            "mdrun rm -f",
            "mdrun wait",
            "mdrun inspect",
        ] {
            let args: Vec<OsString> = line.split_whitespace().map(OsString::from).collect();
            assert!(
                Cli::try_parse_from(with_default_verb(args)).is_err(),
                "{line}"
            );
        }
    }
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
