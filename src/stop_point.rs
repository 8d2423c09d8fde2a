//! Test-only stop points: with `MDRUN_TEST_STOP_AT=<step>` in its environment, mdrun stops
//! itself (SIGSTOP) when it reaches `<step>`, so that an integration test can look at the
//! state it has made so far, then SIGKILL it there (or SIGCONT it). The variable is read
//! once per process; without it each point costs a comparison. Never set it in production.
//! At the crate's root: every room (state, image, systemd, the container library) has steps.
//!
//! Steps: `run:claimed` (record written, nothing started), `run:spawned` (init cloned, not
//! placed), `run:placed` (in its cgroup or scope, not yet released; these two are in the
//! supervisor for `run -d` and `start`, and shared by `start`), `run:cgroup-made` (cgroupfs:
//! the init's cgroup made, the init not cloned yet; the first try only), `run:cgroup-created`
//! (cgroupfs: the cgroup and its limits made, its files not opened yet; the first try only),
//! `start:claimed`,
//! `commit:frozen`, `commit:layer` (new layer unpacked in `<root>/tmp`, not published),
//! `commit:hashed`, `commit:recorded`, `commit:moved` (a stopped container's write layer:
//! digest known; its layer on the record; moved into the store, no new write layer yet),
//! `rm:released` (cgroup and runtime directory gone, record kept), `rm:renamed` (data
//! directory renamed to `.removing-<id>`, not deleted), `systemd:subscribed` (connected to
//! the bus and listening for JobRemoved, the scope not asked for yet), `push:chunk` (a
//! chunk of a layer upload sent, the upload not finished), `execve:ready` (an init's or an
//! `exec`'d process's last step: confined, its program found, not exec'd yet),
//! `unpack:node-made` (a device node or fifo of a tar stream made, its mode not set yet),
//! `tar:file-statted` (a tree written as tar: a regular file seen, not opened yet).

use std::sync::OnceLock;

/// The environment variable that names the step to stop at.
pub const STOP_AT_VAR: &str = "MDRUN_TEST_STOP_AT";

/// Stop this process here if the test asked for `step`.
pub fn reached(step: &str) {
    static STOP_AT: OnceLock<Option<String>> = OnceLock::new();
    let at = STOP_AT.get_or_init(|| std::env::var(STOP_AT_VAR).ok());
    if at.as_deref() == Some(step) {
        // SAFETY: raise(2) sends a signal to this process; no memory is involved.
        unsafe { libc::raise(libc::SIGSTOP) };
    }
}
