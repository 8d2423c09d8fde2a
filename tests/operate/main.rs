//! Area `operate`: operating running containers, a file a verb.
//!
//! - pause.rs: `pause`, `unpause` (the cgroup freezer), and stop/kill/rm of a paused one
//! - stats.rs, top.rs: `stats` (the cgroup's own figures), `top` (ps of its processes)
//! - ps_format.rs: `ps --filter` and `--format` Go templates
//! - rename.rs: `rename`
//! - diff.rs: `diff` (A/C/D of the write layer)
//! - events.rs: `events` (each step, in order, filtered, as JSON lines)
//! - cp.rs: `cp` both ways and as tar streams; symlinks never followed out of the root; no
//!   setuid bit or device node copied out onto the host, no node opened in a file's stead
//! - cp_stopped.rs: `cp` both ways on a container that does not run
//! - update.rs: `update` (new limits the kernel enforces, refused ones)
//! - completion.rs: `completion bash|zsh|fish`, the man pages (`__man`)
//! - util.rs: helpers: detached containers, their records and write layers

#[path = "../common/mod.rs"]
mod common;
mod util;

mod completion;
mod cp;
mod cp_stopped;
mod diff;
mod events;
mod pause;
mod ps_format;
mod rename;
mod stats;
mod top;
mod update;
