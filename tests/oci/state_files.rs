//! What `create` keeps under `--root` (the state: the config's hooks with their
//! environment, annotations, the bundle's path) is root's alone, as runc keeps it (root
//! 0700, state.json 0600): a host user could read a hook's secrets in it.

use crate::common::TestEnv;
use crate::util::Oci;
use serde_json::json;
use std::os::unix::fs::PermissionsExt;

fn mode(p: &std::path::Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

#[test]
fn the_state_under_root_is_private() {
    let env = TestEnv::bare();
    let o = Oci::new(&env, &["true"]);
    o.edit(|c| {
        c["hooks"] = json!({"poststop": [{"path": "/bin/true", "env": ["TOKEN=s3cret"]}]});
    });
    assert!(!o.root.exists());
    o.ok(&["create", "s1"]);
    let dir = o.root.join("s1");
    let state = std::fs::read_to_string(dir.join("state.json")).unwrap();
    assert!(state.contains("s3cret"), "the hook is kept: {state}");
    for p in [&o.root, &dir, &dir.join("state.json")] {
        assert_eq!(
            mode(p) & 0o077,
            0,
            "{} is open to others: {:o}",
            p.display(),
            mode(p)
        );
    }
    o.ok(&["start", "s1"]);
    o.wait_status("s1", "stopped");
    o.ok(&["delete", "s1"]);
    assert!(!dir.exists());
}
