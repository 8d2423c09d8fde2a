//! Options of the verbs that make or move images (`commit`, `export`, `save`, `load`),
//! with docker's names and meanings.

#[derive(Debug, clap::Args)]
pub struct CommitArgs {
    /// Freeze a running container while its write layer is read (docker's default)
    #[arg(short, long, default_value_t = true, action = clap::ArgAction::Set)]
    pub pause: bool,
    /// Container (name, id or id prefix)
    pub container: String,
    /// NAME[:TAG] for the new image
    pub image: String,
}

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Write to this file instead of standard output
    #[arg(short, long)]
    pub output: Option<String>,
    /// Container (name, id or id prefix)
    pub container: String,
}

#[derive(Debug, clap::Args)]
pub struct SaveArgs {
    /// Write to this file instead of standard output
    #[arg(short, long)]
    pub output: Option<String>,
    /// Images (NAME[:TAG], id or id prefix)
    #[arg(required = true)]
    pub images: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct LoadArgs {
    /// Read from this archive instead of standard input
    #[arg(short, long)]
    pub input: Option<String>,
    /// Print only the loaded image ids
    #[arg(short, long)]
    pub quiet: bool,
}
