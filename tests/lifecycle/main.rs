//! Area `lifecycle`: a container's life after `run`, a file a verb.
//!
//! - detach.rs: `run -d` (with and without a terminal), one name claimed by two `run`s
//! - exec.rs: `exec` (CVE-2019-5736 through it: tests/isolation/escape_host.rs)
//! - logs.rs: `logs` of the file driver (the journald driver: tests/systemd/logs_follow.rs)
//! - start.rs: `start`
//! - stop.rs, kill.rs, wait.rs: `stop`, `kill`, `wait`
//! - ps.rs, inspect.rs: `ps`, `inspect`
//! - rm.rs: `rm`, and how a container is named (name, id, id prefix)
//! - prune.rs, prune_stores.rs: `prune`, of one store and of two sharing a cgroup parent
//! - reboot.rs: a reboot, simulated: `ps`, `start`, `commit`, `rm` afterwards
//! - mdrun_killed.rs: mdrun SIGKILLed midway through `run`, `commit`, `rm`, `start`
//! - util.rs: helpers: records, containers started attached in the background

#[path = "../common/mod.rs"]
mod common;
mod util;

mod detach;
mod exec;
mod inspect;
mod kill;
mod logs;
mod mdrun_killed;
mod prune;
mod prune_stores;
mod ps;
mod reboot;
mod rm;
mod start;
mod stop;
mod wait;
