//! Area `operate`: operating running containers, a file a verb.
//!
//! - pause.rs: `pause`, `unpause` (the cgroup freezer), and stop/kill/rm of a paused one
//! - util.rs: helpers: detached containers, their records and write layers

#[path = "../common/mod.rs"]
mod common;
mod util;

mod pause;
