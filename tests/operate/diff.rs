//! `mdrun diff`: the write layer against the image, as docker lists it.

use crate::common::*;
use crate::util::*;

#[test]
fn diff_lists_added_changed_and_deleted_paths() {
    let env = TestEnv::new();
    let script = "echo x > /etc/new; echo y >> /etc/passwd; rm /bin/ls; mkdir -p /tmp/a/b; \
                  ln -s / /escape; touch /ready; sleep 1000";
    let id = detached(&env, "df", &[], &["sh", "-c", script]);
    until("the changes are made", || {
        upper_file(&env, &id, "ready").exists()
    });
    let expected = "C /bin\nD /bin/ls\nA /escape\nC /etc\nA /etc/new\nC /etc/passwd\nA /ready\n\
                    C /tmp\nA /tmp/a\nA /tmp/a/b\n";
    let out = env.mdrun(&["diff", "df"]);
    out.assert_ok();
    // /escape is a symlink to /: listed, never followed.
    assert_eq!(out.stdout, expected, "{out}");
    // The same once it has stopped.
    env.mdrun(&["kill", "df"]).assert_ok();
    env.mdrun(&["wait", "df"]).assert_ok();
    assert_eq!(env.mdrun(&["diff", "df"]).stdout, expected);
    env.mdrun(&["diff", "nope"]).assert_one_line_error(125);
    env.mdrun(&["rm", "df"]).assert_ok();
    env.assert_clean();
}
