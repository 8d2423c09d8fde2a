//! `mdrun run` options, with docker's names and meanings.

use crate::config::{CgroupManagerSetting, LogDriverSetting};
use std::path::PathBuf;

#[derive(Debug, Default, clap::Args)]
#[command(disable_help_flag = true)]
pub struct RunArgs {
    #[command(flatten)]
    pub limits: super::limit_args::LimitArgs,
    /// Bind mount a volume: /host/dir:/path[:ro] or name:/path[:ro]
    #[arg(short = 'v', long = "volume")]
    pub volumes: Vec<String>,
    /// Set environment variables (KEY=VALUE, or KEY to copy mdrun's own)
    #[arg(short = 'e', long = "env")]
    pub env: Vec<String>,
    /// Read in a file of environment variables
    #[arg(long)]
    pub env_file: Vec<PathBuf>,
    /// Working directory inside the container
    #[arg(short = 'w', long, allow_hyphen_values = true)]
    pub workdir: Option<String>,
    /// Container host name
    #[arg(short = 'h', long, allow_hyphen_values = true)]
    pub hostname: Option<String>,
    /// Assign a name to the container
    #[arg(long, allow_hyphen_values = true)]
    pub name: Option<String>,
    /// Allocate a pseudo-TTY
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Keep STDIN open
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Run in the background and print the container id
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Remove the container when it exits
    #[arg(long)]
    pub rm: bool,
    /// Seconds to wait after a SIGTERM to mdrun (forwarded to the container) before killing it
    #[arg(long, value_name = "SECONDS")]
    pub stop_timeout: Option<u64>,
    /// TOML file describing the container; flags override it
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Parent cgroup for the container (absolute path in each hierarchy)
    #[arg(long)]
    pub cgroup_parent: Option<String>,
    /// Who makes the container's cgroup: systemd (a scope md-<id>.scope) or cgroupfs
    #[arg(long, value_parser = cgroup_manager)]
    pub cgroup_manager: Option<CgroupManagerSetting>,
    /// Where the container's output goes: journald, file or none
    #[arg(long, value_parser = log_driver)]
    pub log_driver: Option<LogDriverSetting>,
    /// Who tells systemd the service is ready: mdrun (when the command runs) or container
    #[arg(long, value_parser = ["mdrun", "container"])]
    pub sdnotify: Option<String>,
    /// Username or UID (format: <name|uid>[:<group|gid>])
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    /// Give extended privileges to this container (all capabilities, no seccomp, no masks)
    #[arg(long)]
    pub privileged: bool,
    /// Add Linux capabilities (NAME, CAP_NAME or ALL)
    #[arg(long = "cap-add")]
    pub cap_add: Vec<String>,
    /// Drop Linux capabilities (NAME, CAP_NAME or ALL)
    #[arg(long = "cap-drop")]
    pub cap_drop: Vec<String>,
    /// Security options: no-new-privileges[=true|false], seccomp=unconfined
    #[arg(long = "security-opt")]
    pub security_opt: Vec<String>,
    /// Mount the container's root filesystem as read only (/tmp and /run stay writable)
    #[arg(long)]
    pub read_only: bool,
    /// Mount a tmpfs directory: PATH[:OPTIONS]
    #[arg(long)]
    pub tmpfs: Vec<String>,
    /// Overwrite the image's ENTRYPOINT (`''` clears it; the image's CMD is not used)
    #[arg(long, allow_hyphen_values = true)]
    pub entrypoint: Option<String>,
    /// Signal `stop` sends first (default: the image's STOPSIGNAL, else SIGTERM)
    #[arg(long)]
    pub stop_signal: Option<String>,
    /// Restart policy: no, on-failure[:N], always, unless-stopped (needs -d and systemd)
    #[arg(long, value_name = "POLICY")]
    pub restart: Option<String>,
    /// Command to run to check health (run by /bin/sh -c in the container)
    #[arg(long, value_name = "COMMAND")]
    pub health_cmd: Option<String>,
    /// Time between health checks (ms|s|m|h), default 30s
    #[arg(long, value_name = "DURATION")]
    pub health_interval: Option<String>,
    /// Maximum time a health check may run (ms|s|m|h), default 30s
    #[arg(long, value_name = "DURATION")]
    pub health_timeout: Option<String>,
    /// Consecutive failures needed to report unhealthy, default 3
    #[arg(long, value_name = "N")]
    pub health_retries: Option<u32>,
    /// Start period during which failures do not count (ms|s|m|h), default 0s
    #[arg(long, value_name = "DURATION")]
    pub health_start_period: Option<String>,
    /// Disable any healthcheck, the image's included
    #[arg(long)]
    pub no_healthcheck: bool,
    /// Pull the image: missing (when not in the store), always, never
    #[arg(long, default_value = "missing", value_parser = ["missing", "always", "never"])]
    pub pull: String,
    /// Registry options for that pull
    #[command(flatten)]
    pub registry: super::RegistryArgs,
    /// Networks and ports
    #[command(flatten)]
    pub net: NetArgs,
    /// Print help
    #[arg(long, action = clap::ArgAction::Help)]
    pub help: Option<bool>,
    /// Image (NAME[:TAG], id or id prefix)
    pub image: Option<String>,
    /// Command and arguments (default: the image's command)
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

fn cgroup_manager(s: &str) -> Result<CgroupManagerSetting, String> {
    CgroupManagerSetting::from_name(s)
        .ok_or_else(|| format!("expected one of {}", CgroupManagerSetting::NAMES.join(", ")))
}

fn log_driver(s: &str) -> Result<LogDriverSetting, String> {
    LogDriverSetting::from_name(s)
        .ok_or_else(|| format!("expected one of {}", LogDriverSetting::NAMES.join(", ")))
}

/// `run`'s network options, as docker names them.
#[derive(Debug, Default, clap::Args)]
pub struct NetArgs {
    /// Network: none, host, bridge (the default network `mdrun`), NAME, container:NAME
    #[arg(long = "network", visible_alias = "net")]
    pub network: Option<String>,
    /// Publish a port: [hostIP:][hostPort:]containerPort[/tcp|udp], ranges allowed
    #[arg(short = 'p', long = "publish")]
    pub publish: Vec<String>,
    /// Publish the image's exposed ports on free host ports
    #[arg(short = 'P', long = "publish-all")]
    pub publish_all: bool,
    /// DNS server (replaces the host's)
    #[arg(long)]
    pub dns: Vec<String>,
    /// DNS search domain
    #[arg(long = "dns-search")]
    pub dns_search: Vec<String>,
    /// An /etc/hosts line: NAME:IP
    #[arg(long = "add-host")]
    pub add_host: Vec<String>,
    /// The container's IPv4 address on its network
    #[arg(long)]
    pub ip: Option<String>,
    /// The container's MAC address (aa:bb:cc:dd:ee:ff)
    #[arg(long = "mac-address")]
    pub mac_address: Option<String>,
    /// Another name the container has on its network
    #[arg(long = "network-alias")]
    pub network_alias: Vec<String>,
}
