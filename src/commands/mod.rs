//! One file per verb; each takes its argument struct from `cli` and returns the exit code.

pub mod cleanup;
mod cleanup_scope;
pub mod commit;
mod commit_stopped;
pub mod exec;
pub mod exit_wait;
pub mod export;
mod human;
pub mod images;
pub mod import;
pub mod inspect;
pub mod kill;
pub mod load;
pub mod logs;
pub mod prune;
pub mod ps;
mod ps_format;
mod report;
pub mod rm;
pub mod rmi;
pub mod run;
mod run_prepare;
mod run_spec;
mod run_start;
pub mod save;
pub mod signal;
pub mod start;
pub mod stop;
#[cfg(test)]
mod tests;
pub mod wait;
