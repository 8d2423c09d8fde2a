//! Parsers for what users type: sizes, cpus, volume specs, names, env, image references,
//! signals.
//! Pure functions (except [`host_cpus`] and [`env_file`]), with docker's semantics; each
//! error is one line that quotes the input and says what was wrong with it.

mod cpu;
mod env;
mod names;
mod signal;
mod size;
mod volume;

use crate::quote::{quoted, short};
use std::path::PathBuf;

pub use cpu::{cpus, cpuset, host_cpus, CpuProblem, CPU_PERIOD_US};
pub use env::{env_file, env_pair, EnvProblem};
pub use names::{hostname, image_ref, name, ImageRefProblem, NameProblem};
pub use signal::signal;
pub use size::{memory, memory_swap, size, SizeProblem, MEMORY_MIN};
pub use volume::{volume, VolumeProblem};

#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("invalid memory size {}: {problem}", quoted(.input))]
    Size { input: String, problem: SizeProblem },
    #[error("memory limit {} is below the minimum allowed, 6MB", quoted(.input))]
    MemoryBelowMinimum { input: String },
    #[error("invalid --cpus {}: {problem}", quoted(.input))]
    Cpus { input: String, problem: CpuProblem },
    #[error("--cpus {}: the host has only {host} CPU{}", short(.input), plural(*host))]
    CpusOverHost { input: String, host: usize },
    #[error("invalid --cpuset-cpus {}: {problem}", quoted(.input))]
    Cpuset { input: String, problem: CpuProblem },
    #[error("invalid volume {}: {problem}", quoted(.input))]
    Volume {
        input: String,
        problem: VolumeProblem,
    },
    #[error("invalid container name {}: {problem}", quoted(.input))]
    Name { input: String, problem: NameProblem },
    #[error("invalid hostname {}: {problem}", quoted(.input))]
    Hostname { input: String, problem: NameProblem },
    #[error("invalid environment variable {}: {problem}", quoted(.input))]
    Env { input: String, problem: EnvProblem },
    /// A bad line in an `--env-file`; `line` counts from 1.
    #[error("{}:{line}: {problem}", path.display())]
    EnvFileLine {
        path: PathBuf,
        line: usize,
        problem: EnvProblem,
    },
    #[error("read {}: {source}", short(.path))]
    EnvFileRead {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid image reference {}: {problem}", quoted(.input))]
    ImageRef {
        input: String,
        problem: ImageRefProblem,
    },
    #[error("invalid signal {}: use a name like TERM or SIGKILL, or a number", quoted(.input))]
    Signal { input: String },
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
