//! `mdrun rename`: the new name finds the container, the old one does not; names stay
//! unique.

use crate::common::*;
use crate::util::*;

#[test]
fn rename_changes_the_name_and_keeps_names_unique() {
    let env = TestEnv::new();
    let id = detached(&env, "old", &[], &["sleep", "1000"]);
    detached(&env, "other", &[], &["sleep", "1000"]);
    let out = env.mdrun(&["rename", "old", "new"]);
    out.assert_ok();
    assert_eq!(out.stdout, "");
    assert_eq!(record(&env, "new").unwrap()["id"], id.as_str());
    assert!(record(&env, "old").is_none());
    assert_eq!(env.mdrun(&["exec", "new", "echo", "hi"]).out(), "hi");
    assert_eq!(ps_entry(&env, "new")["Id"], id.as_str());
    env.mdrun(&["exec", "old", "true"])
        .assert_one_line_error(125);

    let taken = env.mdrun(&["rename", "new", "other"]);
    taken.assert_one_line_error(125);
    assert!(taken.stderr.contains("already in use"), "{taken}");
    env.mdrun(&["rename", "new", "a/b"])
        .assert_one_line_error(125);
    env.mdrun(&["rename", "nope", "x"])
        .assert_one_line_error(125);
    assert_eq!(record(&env, "new").unwrap()["id"], id.as_str());

    // The name outlives the run it was given in: the container's end is recorded over it.
    env.mdrun(&["stop", "-t", "1", "new"]).assert_ok();
    assert_eq!(record(&env, "new").unwrap()["id"], id.as_str());
    assert!(record(&env, "old").is_none());

    env.mdrun(&["rm", "-f", "new", "other"]).assert_ok();
    env.assert_clean();
}
