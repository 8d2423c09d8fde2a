//! The life of a container, one file an operation: what the docker-like verbs in
//! `commands` (and any other front-end) call. Nothing here parses a command line or prints
//! a result (a few warnings go to stderr); it takes validated input
//! ([`crate::spec::ContainerSpec`], names, ids) and returns what happened. Operations are
//! free functions over the store's [`crate::paths::Paths`] and a name or id (`query`),
//! not methods of a long-lived handle: another mdrun may change a record at any time, so
//! each operation reads it again where it acts (under the store lock).
//!
//! - looking one up as it really is, a stale record repaired first: [`lookup`];
//! - creating one ([`create`]) or claiming an exited one again ([`start`]), each ready to
//!   [`run_attached`] or [`run_detached`] (`run.rs`: clone, place, exec, supervise,
//!   record the end), with its directories (`dirs.rs`) and its plan (`prepare.rs`);
//! - running a command in one: [`exec`];
//! - waiting for its end: [`wait`]; stopping it: [`stop`]; signalling it: [`kill`], all
//!   through its init held by a pidfd (`init_handle.rs`);
//! - removing it ([`remove`]: its scope, cgroup, directories; `scope_leftovers.rs`,
//!   `remove_tree.rs`), or every stopped one and what killed commands left ([`prune`]);
//! - pausing and unpausing it: [`pause`], [`unpause`] (systemd's FreezeUnit, or the
//!   cgroup freezer);
//! - changing its limits while it runs: [`update`] (its cgroup, and its scope through
//!   SetUnitProperties);
//! - what it uses ([`sample`], `stats.rs`) and which processes it runs ([`top`]);
//!   renaming it ([`rename`]);
//! - what changed in its files ([`diff`]); copying files in and out ([`copy_in`],
//!   [`copy_out`], resolved inside its root);
//! - what happened to it, as events ([`events`]: a log in the store, and the journal);
//! - committing it as an image ([`commit`], `commit_stopped.rs`) or exporting its files
//!   ([`export`]);
//! - its image, pulled when missing ([`image_for_run`]); an image's VOLUMEs as
//!   anonymous volumes (`anon_volumes.rs`);
//! - restarting it by its policy under a systemd service (`supervised.rs`:
//!   [`start_supervised_new`], [`supervise`], [`start_at_boot`]) and checking its health
//!   ([`run_healthcheck`], `health.rs`).

mod anon_volumes;
mod commit;
mod commit_stopped;
mod cp;
mod cp_stopped;
mod create;
mod diff;
mod dirs;
pub mod events;
pub mod events_journal;
mod exec;
mod export;
mod health;
mod image;
mod init_handle;
mod kill;
mod lookup;
mod network;
mod pause;
mod prepare;
mod prune;
mod remove;
mod remove_tree;
mod rename;
mod run;
mod scope_leftovers;
mod start;
mod stats;
mod stop;
mod supervised;
mod top;
mod update;
mod wait;

pub use commit::commit;
pub use cp::{copy_in, copy_out, CopyIn, CopyOut};
pub use create::create;
pub use diff::{diff, Change};
pub use exec::{exec, ExecRequest};
pub use export::export;
pub use health::run_healthcheck;
pub use image::image_for_run;
pub use kill::kill;
pub use lookup::{lookup, refresh, Repair, UNKNOWN_EXIT};
pub use pause::{is_paused, pause, unpause};
pub use prune::{prune, Pruned};
pub use remove::remove;
pub use rename::rename;
pub use run::{run_attached, run_detached, Prepared};
pub use start::{start, Started};
pub use stats::{cpu_percent, host_memory, sample, Sample};
pub use stop::{stop, Stopped};
pub use supervised::{start_at_boot, start_supervised_new, supervise};
pub use top::top;
pub use update::{update, update_restart};
pub use wait::wait;
