//! Options of the verbs that talk to registries (`pull`, `login`, `logout`, and `run`'s
//! pull), spelled as podman spells them.

use std::path::PathBuf;

/// How to reach a registry.
#[derive(Debug, Clone, clap::Args)]
pub struct RegistryArgs {
    /// Require HTTPS and a verified certificate (`--tls-verify=false`: plain HTTP or any
    /// certificate; plain HTTP is always allowed for loopback registries, as docker does)
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1,
          default_missing_value = "true", require_equals = true)]
    pub tls_verify: bool,
    /// Credentials file (default: $REGISTRY_AUTH_FILE, else
    /// $XDG_RUNTIME_DIR/containers/auth.json; ~/.docker/config.json is read too)
    #[arg(long)]
    pub authfile: Option<PathBuf>,
    /// The image of this platform from a multi-platform index: os/arch[/variant]
    #[arg(long)]
    pub platform: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct PullArgs {
    /// Print only the image's name
    #[arg(short, long)]
    pub quiet: bool,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// [REGISTRY/]NAME[:TAG|@DIGEST]
    pub reference: String,
}

#[derive(Debug, clap::Args)]
pub struct PushArgs {
    /// Print only the pushed image's name and digest
    #[arg(short, long)]
    pub quiet: bool,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// The stored image (NAME[:TAG], id or id prefix)
    pub image: String,
    /// Where to push it: [REGISTRY/]NAME[:TAG] (default: IMAGE's name)
    pub dest: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct LoginArgs {
    /// User name
    #[arg(short, long)]
    pub username: Option<String>,
    /// Password (prefer --password-stdin: a password on the command line is visible to all)
    #[arg(short, long)]
    pub password: Option<String>,
    /// Read the password from standard input
    #[arg(long)]
    pub password_stdin: bool,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Registry host[:port] (default: docker.io)
    pub server: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct LogoutArgs {
    /// Credentials file (as for login)
    #[arg(long)]
    pub authfile: Option<PathBuf>,
    /// Registry host[:port] (default: docker.io)
    pub server: Option<String>,
}

impl Default for RegistryArgs {
    fn default() -> RegistryArgs {
        RegistryArgs {
            tls_verify: true,
            authfile: None,
            platform: None,
        }
    }
}

impl From<&RegistryArgs> for crate::registry::Options {
    fn from(a: &RegistryArgs) -> crate::registry::Options {
        crate::registry::Options {
            insecure: !a.tls_verify,
            authfile: a.authfile.clone(),
            platform: a.platform.clone(),
        }
    }
}
