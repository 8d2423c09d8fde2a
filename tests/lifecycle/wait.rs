//! `mdrun wait` on a container run attached in the background.

use crate::common::*;
use crate::util::*;
use std::time::{Duration, Instant};

#[test]
fn wait_blocks_until_the_exit_and_prints_the_code() {
    let env = TestEnv::new();
    let (running, _) = start(&env, "brief", &["sh", "-c", "sleep 1; exit 5"]);
    let t = Instant::now();
    let out = env.mdrun(&["wait", "brief"]);
    out.assert_ok();
    assert_eq!(out.stdout, "5\n");
    assert!(
        t.elapsed() >= Duration::from_millis(500),
        "wait returned early: {:?}",
        t.elapsed()
    );
    running.wait().assert_code(5);
    // On an exited container it returns at once, with the same code.
    env.mdrun(&["run", "--name", "other", "busybox", "false"])
        .assert_code(1);
    let both = env.mdrun(&["wait", "brief", "other"]);
    both.assert_ok();
    assert_eq!(both.stdout, "5\n1\n");
    env.mdrun(&["rm", "brief", "other"]).assert_ok();
    env.assert_clean();
}
