//! `mdrun rmi`.

use crate::common::*;

/// `rmi` of an unknown image fails with one line; like `docker rmi`, mdrun may exit 1 there
/// (the 125 of `run` tells the command's own exit codes apart, which `rmi` has none of).
#[track_caller]
fn rmi_refused(out: &Out) {
    assert!(out.code == 1 || out.code == 125, "{out}");
    out.assert_one_line_error(out.code);
}

#[test]
fn rmi_removes_the_image_and_its_layer() {
    let env = TestEnv::new();
    env.mdrun(&["rmi", "busybox"]).assert_ok();
    let listing = env.mdrun(&["images"]);
    listing.assert_ok();
    assert!(!listing.stdout.contains("busybox"), "{listing}");
    let layers = files::names(&env.root.join("layers"));
    assert!(layers.is_empty(), "layers left after rmi: {layers:?}");
    env.run(&["busybox", "true"]).assert_mdrun_error();
    // A second rmi is an error.
    rmi_refused(&env.mdrun(&["rmi", "busybox"]));
    env.assert_clean();
}

#[test]
fn rmi_of_an_unknown_image_is_refused() {
    let env = TestEnv::new();
    let out = env.mdrun(&["rmi", "no-such-image"]);
    rmi_refused(&out);
    assert!(out.stderr.contains("no-such-image"), "{out}");
}
