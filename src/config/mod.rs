//! TOML configuration: the global `mdrun.toml` and per-container files (`run --config`).
//!
//! Files are read through toml's spanned document (`DeTable`) rather than serde structs, so
//! every error can name the file, the line and the dotted key, in one line:
//! `web.toml:7: limits.memory: invalid memory size "12q": unknown unit "q" (use b, k, m, g)`.
//! Values are validated with `crate::parse`, the same functions the command line uses.

mod container;
mod field;
mod global;
mod limits;

use std::path::PathBuf;

pub use container::{load_container, parse_container, ContainerConfig};
pub use global::{CgroupManagerSetting, GlobalConfig, LogDriverSetting, DEFAULT_PATH, ENV_VAR};

use crate::parse::ParseError;
use crate::quote::{quoted, short};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// `$MDRUN_CONFIG` names a file that is not there (the default path may be absent).
    #[error("config file {} (from ${ENV_VAR}) does not exist", path.display())]
    Missing { path: PathBuf },
    #[error("read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Not TOML at all; `message` is toml's description of what it expected.
    #[error("{}:{line}: {message}", file.display())]
    Syntax {
        file: PathBuf,
        line: usize,
        message: String,
    },
    #[error(
        "{}:{line}: unknown key {} (expected one of {})",
        file.display(),
        quoted(.key),
        expected.join(", ")
    )]
    UnknownKey {
        file: PathBuf,
        line: usize,
        key: String,
        expected: &'static [&'static str],
    },
    #[error("{}:{line}: {}: expected {expected}, found {found}", file.display(), short(.key))]
    WrongType {
        file: PathBuf,
        line: usize,
        key: String,
        expected: &'static str,
        found: &'static str,
    },
    /// A value `crate::parse` refused.
    #[error("{}:{line}: {}: {source}", file.display(), short(.key))]
    Invalid {
        file: PathBuf,
        line: usize,
        key: String,
        source: ParseError,
    },
    /// A value of the right type that is still wrong for other reasons.
    #[error("{}:{line}: {}: {problem}", file.display(), short(.key))]
    Value {
        file: PathBuf,
        line: usize,
        key: String,
        problem: ValueProblem,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueProblem {
    #[error("{} is not an absolute path", quoted(.0))]
    NotAbsolute(PathBuf),
    #[error("unknown value {} (expected one of {})", quoted(.value), expected.join(", "))]
    UnknownChoice {
        value: String,
        expected: &'static [&'static str],
    },
    #[error("{value} is out of range ({min} to {max})")]
    OutOfRange { value: i64, min: i64, max: i64 },
    #[error("{0} is neither a positive number nor -1 (no limit)")]
    NotALimit(i64),
    #[error("integer does not fit in 64 bits")]
    TooLarge,
    #[error("must not be empty")]
    Empty,
    #[error("contains a NUL byte")]
    Nul,
    #[error("contains a '..' component")]
    DotDot,
    #[error("{} is not a slice name (it must end in \".slice\")", quoted(.0))]
    NotASlice(String),
    #[error("the variable name {} contains '='", quoted(.0))]
    KeyWithEquals(String),
    #[error("{swap} is less than limits.memory ({memory}); memory_swap counts memory plus swap")]
    SwapBelowMemory { swap: i64, memory: u64 },
    /// A restart policy that does not parse (the policy's own message).
    #[error("{0}")]
    RestartPolicy(String),
    /// A network or a published port that does not parse.
    #[error("{0}")]
    Network(String),
}
