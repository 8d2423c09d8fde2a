//! One file per verb; each takes its argument struct from `cli` and returns the exit code.

pub mod cleanup;
pub mod commit;
pub mod export;
mod freeze;
pub mod exec;
pub mod exit_wait;
mod human;
pub mod images;
pub mod logs;
pub mod import;
pub mod inspect;
pub mod kill;
pub mod load;
pub mod prune;
pub mod ps;
mod ps_format;
mod report;
pub mod rm;
pub mod rmi;
pub mod save;
pub mod run;
pub mod signal;
pub mod start;
pub mod stop;
pub mod wait;
mod run_prepare;
mod run_spec;
mod run_start;

