//! `mdrun network ...` and `mdrun port`.

#[derive(Debug, clap::Args)]
pub struct NetworkArgs {
    #[command(subcommand)]
    pub command: NetworkCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum NetworkCommand {
    /// Create a network: a bridge, a subnet, NAT out unless --internal
    Create(NetworkCreateArgs),
    /// List networks
    #[command(visible_alias = "list")]
    Ls(NetworkLsArgs),
    /// Show networks as JSON, with their containers
    Inspect(NetworkNamesArgs),
    /// Remove networks no container uses
    Rm(NetworkNamesArgs),
    /// Remove every user network no container uses
    Prune,
    /// Connect a running container to a further network (a veth ethN, an address there)
    Connect(NetworkConnectArgs),
    /// Disconnect a container from a network it was connected to
    Disconnect(NetworkDisconnectArgs),
}

#[derive(Debug, clap::Args)]
pub struct NetworkConnectArgs {
    /// The container's IPv4 address on the network (default: the first free one)
    #[arg(long)]
    pub ip: Option<String>,
    /// Another name for the container on this network
    #[arg(long = "alias")]
    pub aliases: Vec<String>,
    pub network: String,
    /// Container (name, id or id prefix)
    pub container: String,
}

#[derive(Debug, clap::Args)]
pub struct NetworkDisconnectArgs {
    pub network: String,
    /// Container (name, id or id prefix)
    pub container: String,
}

#[derive(Debug, clap::Args)]
pub struct NetworkCreateArgs {
    /// Subnet in CIDR form (default: the first free 10.89.N.0/24)
    #[arg(long)]
    pub subnet: Option<String>,
    /// Gateway (the bridge's address; default: the subnet's first address)
    #[arg(long)]
    pub gateway: Option<String>,
    /// No way out: no NAT, no default route, nothing forwarded
    #[arg(long)]
    pub internal: bool,
    pub name: String,
}

#[derive(Debug, clap::Args)]
pub struct NetworkLsArgs {
    /// Only show names
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, clap::Args)]
pub struct NetworkNamesArgs {
    #[arg(required = true)]
    pub names: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct PortArgs {
    /// Container (name, id or id prefix)
    pub container: String,
}
