//! Parsers for what users type: sizes, cpus, volume specs, names, env, image references.
//! Pure functions (except [`host_cpus`] and [`env_file`]), with docker's semantics; each
//! error is one line that quotes the input and says what was wrong with it.

mod cpu;
mod env;
mod names;
mod size;
mod volume;

use std::path::PathBuf;

pub use cpu::{cpus, cpuset, host_cpus, CpuProblem, CPU_PERIOD_US};
pub use env::{env_file, env_pair, EnvProblem};
pub use names::{hostname, image_ref, name, ImageRefProblem, NameProblem};
pub use size::{memory_swap, size, SizeProblem};
pub use volume::{volume, VolumeProblem};

#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("invalid memory size {input:?}: {problem}")]
    Size { input: String, problem: SizeProblem },
    #[error("invalid --cpus {input:?}: {problem}")]
    Cpus { input: String, problem: CpuProblem },
    #[error("--cpus {input}: the host has only {host} CPU{}", plural(*host))]
    CpusOverHost { input: String, host: usize },
    #[error("invalid --cpuset-cpus {input:?}: {problem}")]
    Cpuset { input: String, problem: CpuProblem },
    #[error("invalid volume {input:?}: {problem}")]
    Volume {
        input: String,
        problem: VolumeProblem,
    },
    #[error("invalid container name {input:?}: {problem}")]
    Name { input: String, problem: NameProblem },
    #[error("invalid hostname {input:?}: {problem}")]
    Hostname { input: String, problem: NameProblem },
    #[error("invalid environment variable {input:?}: {problem}")]
    Env { input: String, problem: EnvProblem },
    /// A bad line in an `--env-file`; `line` counts from 1.
    #[error("{}:{line}: {problem}", path.display())]
    EnvFileLine {
        path: PathBuf,
        line: usize,
        problem: EnvProblem,
    },
    #[error("read {}: {source}", path.display())]
    EnvFileRead {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid image reference {input:?}: {problem}")]
    ImageRef {
        input: String,
        problem: ImageRefProblem,
    },
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
