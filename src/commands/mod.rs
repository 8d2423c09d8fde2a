//! One file per verb; each takes its argument struct from `cli` and returns the exit code.

pub mod exec;
pub mod images;
pub mod import;
pub mod rmi;
pub mod run;
pub mod start;
mod run_prepare;
mod run_spec;
mod run_start;

pub use run_spec::host_cpus;
