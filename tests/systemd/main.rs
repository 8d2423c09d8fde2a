//! Area `systemd`: mdrun with systemd, against a private systemd booted for these tests in
//! namespaces on an overlay of `/` (tests/common/systemd.rs). One sandbox serves the whole
//! binary (`sandbox::shared()`; scope.rs has its own) and its tests take turns.
//!
//! - run.rs: `run` with the systemd cgroup manager: scopes, limits, OOM, failures
//! - scope.rs: the library's scopes over D-Bus and its journald writer, in the sandbox
//! - logs.rs: output in journald in every mode, `mdrun@.service` as a notify service
//! - logs_follow.rs: `logs -f`, `--tail`, `--since`, `-t` from the journal
//! - logs_full.rs: the journald driver on a full store
//! - notify.rs: `--sdnotify container`
//! - prune.rs: `prune` of one of two stores in one systemd
//! - mdrun_killed.rs: `run` SIGKILLed once its init is in its scope
//! - restart.rs: `--restart` policies under a transient service, `stop`, `rm -f`
//! - restart_kill.rs: `kill` of a container under a restart policy, as docker
//! - health.rs: healthchecks run by a transient timer, `healthcheck run`, `ps`, events
//! - events_journal.rs: `events --journal`, the journal's copy of the events

#[path = "../common/mod.rs"]
mod common;
#[path = "../common/systemd.rs"]
mod sandbox;

mod events_journal;
mod health;
mod logs;
mod logs_follow;
mod logs_full;
mod mdrun_killed;
mod notify;
mod prune;
mod restart;
mod restart_kill;
mod run;
mod scope;
