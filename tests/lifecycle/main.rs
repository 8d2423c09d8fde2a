//! Area `lifecycle`: a container's life after `run`, one file a verb.
//!
//! | file | verbs |
//! |---|---|
//! | detach.rs | `run -d`, `exec`, `logs`, `start`, one name claimed by two `run`s |
//! | stop.rs | `stop`, `kill`, `wait` |
//! | ps.rs | `ps`, `inspect` |
//! | rm.rs | `rm`, and how a container is named (name, id, id prefix) |
//! | prune.rs, prune_stores.rs | `prune`, of one store and of two sharing a cgroup parent |
//! | reboot.rs | a reboot, simulated: `ps`, `start`, `commit`, `rm` afterwards |
//! | mdrun_killed.rs | mdrun SIGKILLed midway through `run`, `commit`, `rm`, `start` |
//! | util.rs | helpers: records, containers started attached in the background |

#[path = "../common/mod.rs"]
mod common;
mod util;

mod detach;
mod mdrun_killed;
mod prune;
mod prune_stores;
mod ps;
mod reboot;
mod rm;
mod stop;
