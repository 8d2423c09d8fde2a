//! Hostile archives: each tries to write `outside/victim` (beside the store) or a new file
//! next to it. Every one must fail, name the entry, write nothing outside and leave nothing.

use super::{Env, Tar};
use crate::image::ImageError;
use tar::EntryType;

/// Imports `tar`, expects a refusal naming `entry`, and checks nothing escaped or stayed.
fn refused(env: &Env, tar: Vec<u8>, entry: &str) {
    let err = env
        .import(tar, "evil")
        .expect_err("a hostile archive must not import");
    let message = err.to_string();
    assert!(
        message.contains(&format!("{entry:?}")),
        "{message:?} should name {entry:?}"
    );
    env.assert_outside_untouched();
    env.assert_nothing_imported();
}

/// From the layer (`<dir>/store/tmp/import-x/`), `../../../outside` is the victim's dir.
const UP: &str = "../../../outside";

#[test]
fn dotdot_paths_are_refused() {
    let env = Env::new();
    let entry = format!("{UP}/victim");
    refused(&env, Tar::new().file(&entry, b"pwned").bytes(), &entry);
    let entry = format!("a/../../{UP}/new");
    refused(
        &env,
        Tar::new()
            .dir("a/", 0o755, 1)
            .file(&entry, b"pwned")
            .bytes(),
        &entry,
    );
    let err = env
        .import(Tar::new().file("../x", b"").bytes(), "evil")
        .unwrap_err();
    assert!(matches!(err, ImageError::UnsafeEntry { .. }), "{err}");
}

#[test]
fn absolute_paths_stay_inside_the_layer() {
    let env = Env::new();
    let abs = env.outside().join("victim");
    let imported = env
        .import(
            Tar::new().file(abs.to_str().unwrap(), b"inside").bytes(),
            "abs",
        )
        .unwrap();
    let inside = env.layer(&imported).join(abs.strip_prefix("/").unwrap());
    assert_eq!(std::fs::read(inside).unwrap(), b"inside");
    env.assert_outside_untouched();
    // ...but one that climbs out from the root is refused.
    let entry = format!("/{UP}/victim");
    refused(
        &Env::new(),
        Tar::new().file(&entry, b"pwned").bytes(),
        &entry,
    );
}

#[test]
fn writing_through_a_planted_symlink_is_refused() {
    let env = Env::new();
    let outside = env.outside();
    // Absolute and relative symlinks to the outside dir, then a file "inside" them.
    refused(
        &env,
        Tar::new()
            .symlink("evil", outside.to_str().unwrap())
            .file("evil/victim", b"pwned")
            .bytes(),
        "evil/victim",
    );
    refused(
        &env,
        Tar::new()
            .symlink("evil", UP)
            .file("evil/new", b"pwned")
            .bytes(),
        "evil/new",
    );
    // A directory under the symlink (mkdir -p through it), and a node, and a symlink.
    refused(
        &env,
        Tar::new()
            .symlink("evil", UP)
            .dir("evil/sub/", 0o755, 1)
            .bytes(),
        "evil/sub/",
    );
    refused(
        &env,
        Tar::new()
            .symlink("evil", UP)
            .file("evil/a/b/c", b"pwned")
            .bytes(),
        "evil/a/b/c",
    );
    refused(
        &env,
        Tar::new()
            .symlink("evil", UP)
            .node(EntryType::Fifo, "evil/fifo", 0, 0)
            .bytes(),
        "evil/fifo",
    );
    refused(
        &env,
        Tar::new()
            .symlink("evil", UP)
            .symlink("evil/link", "/etc/passwd")
            .bytes(),
        "evil/link",
    );
    // Through a chain: a symlink inside that points at a symlink out.
    let tar = Tar::new()
        .symlink("out", UP)
        .symlink("in", "out")
        .file("in/victim", b"pwned")
        .bytes();
    refused(&env, tar, "in/victim");
}

#[test]
fn hard_links_out_of_the_layer_are_refused() {
    let env = Env::new();
    let entry = "link";
    refused(
        &env,
        Tar::new().hardlink(entry, &format!("{UP}/victim")).bytes(),
        entry,
    );
    // Through a planted symlink: linkat would make a second name for the victim's inode,
    // and a later entry writing to it would overwrite the victim.
    let tar = Tar::new()
        .symlink("evil", UP)
        .hardlink("link", "evil/victim")
        .file("link", b"pwned")
        .bytes();
    refused(&env, tar, "link");
    // An absolute target is resolved inside the layer: not there, so the import fails.
    let victim = env.outside().join("victim");
    let err = env
        .import(
            Tar::new()
                .hardlink("link", victim.to_str().unwrap())
                .bytes(),
            "evil",
        )
        .unwrap_err();
    assert!(matches!(err, ImageError::Entry { .. }), "{err}");
    env.assert_outside_untouched();
    env.assert_nothing_imported();
}

#[test]
fn a_hard_link_to_a_symlink_links_the_symlink_not_its_target() {
    let env = Env::new();
    let victim = env.outside().join("victim");
    let tar = Tar::new()
        .symlink("s", victim.to_str().unwrap())
        .hardlink("h", "s")
        .bytes();
    let imported = env.import(tar, "ok").unwrap();
    let h = env.layer(&imported).join("h");
    assert!(std::fs::symlink_metadata(&h)
        .unwrap()
        .file_type()
        .is_symlink());
    env.assert_outside_untouched();
}
