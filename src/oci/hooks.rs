//! The runtime-spec's hooks: each run with its args and env, the container's state JSON on
//! stdin, and its timeout. `create` runs createRuntime and createContainer (a failure fails
//! the create), `start` prestart and startContainer (a failure fails the start: prestart is
//! where runtime-tools checks it, after `start` is called and before the process runs) and
//! poststart, `delete` poststop (poststart's and poststop's failures are warnings and the
//! rest still run).

use super::Result;
use oci_spec::runtime::Hook;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub fn run_all(kind: &str, hooks: Option<&Vec<Hook>>, state: &serde_json::Value) -> Result<()> {
    for h in hooks.into_iter().flatten() {
        run(kind, h, state)?;
    }
    Ok(())
}

/// Failures are logged as warnings; every hook runs.
pub fn run_all_warn(kind: &str, hooks: Option<&Vec<Hook>>, state: &serde_json::Value) {
    for h in hooks.into_iter().flatten() {
        if let Err(e) = run(kind, h, state) {
            super::log::warn(&e);
        }
    }
}

fn run(kind: &str, h: &Hook, state: &serde_json::Value) -> Result<()> {
    let path = h.path();
    let mut cmd = Command::new(path);
    if let Some(args) = h.args() {
        if let Some((first, rest)) = args.split_first() {
            cmd.arg0(first).args(rest);
        }
    }
    cmd.env_clear();
    for kv in h.env().iter().flatten() {
        if let Some((k, v)) = kv.split_once('=') {
            cmd.env(k, v);
        }
    }
    cmd.stdin(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("{kind} hook {}: {e}", path.display()))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A hook that does not read its stdin closes it: that is not an error.
        let _ = stdin.write_all(state.to_string().as_bytes());
    }
    let deadline = h
        .timeout()
        .filter(|t| *t > 0)
        .map(|t| Instant::now() + Duration::from_secs(t as u64));
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) => {}
            Err(e) => return Err(format!("{kind} hook {}: wait: {e}", path.display())),
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("{kind} hook {}: timed out", path.display()));
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    if status.success() {
        Ok(())
    } else {
        Err(format!("{kind} hook {} failed: {status}", path.display()))
    }
}
