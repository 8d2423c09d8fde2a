//! The limit flags `run` and `update` share, with docker's names and meanings.

#[derive(Debug, Default, clap::Args)]
pub struct LimitArgs {
    /// Memory limit (e.g. 100m, 1g, 512k, bytes)
    #[arg(short = 'm', long, allow_hyphen_values = true)]
    pub memory: Option<String>,
    /// Memory plus swap limit, or -1 for unlimited swap
    #[arg(long, allow_hyphen_values = true)]
    pub memory_swap: Option<String>,
    /// Number of CPUs (fractional; becomes a CFS quota per 100ms period)
    #[arg(long, allow_hyphen_values = true)]
    pub cpus: Option<String>,
    /// CPU shares (relative weight)
    #[arg(short = 'c', long)]
    pub cpu_shares: Option<u64>,
    /// CPUs in which to allow execution (0-3, 0,1)
    #[arg(long, allow_hyphen_values = true)]
    pub cpuset_cpus: Option<String>,
    /// Tune container pids limit (-1 for unlimited)
    #[arg(long, allow_hyphen_values = true)]
    pub pids_limit: Option<i64>,
}
