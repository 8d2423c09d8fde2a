//! One file per verb: each takes its argument struct from `cli`, calls the container
//! library (`container`) or the image store (`image`), prints the result the way docker
//! does, and returns the exit code. No verb calls another; what several share to print
//! is in `human` (docker's tables and durations), `ps_format`, `report` (the
//! multi-container verbs' output) and `output_file` (`-o FILE`).

pub mod commit;
pub mod completion;
pub mod cp;
pub mod diff;
pub mod events;
pub mod exec;
pub mod export;
mod go_template;
pub mod healthcheck;
pub mod history;
mod human;
pub mod images;
mod images_format;
pub mod import;
pub mod inspect;
mod inspect_shape;
pub mod kill;
pub mod load;
pub mod login;
pub mod logs;
pub mod network;
mod output_file;
pub mod pause;
pub mod prune;
pub mod ps;
mod ps_filter;
mod ps_format;
pub mod pull;
pub mod push;
pub mod rename;
mod report;
pub mod restart;
pub mod rm;
pub mod rmi;
pub mod run;
pub mod save;
pub mod start;
pub mod stats;
pub mod stop;
pub mod supervise;
#[cfg(test)]
mod tests;
pub mod top;
mod units;
pub mod update;
pub mod wait;
