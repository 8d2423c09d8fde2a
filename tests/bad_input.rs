//! Bad input is refused before anything is made: one line on stderr, exit 125, and nothing
//! left behind (no container record, runtime state, cgroup, mount or half-imported layer).

mod common;

use common::tarball::{Kind, Tar};
use common::*;
use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

/// Runs `mdrun run --rm ARGS` and asserts a one-line refusal, exit 125, nothing left.
#[track_caller]
fn refused(env: &TestEnv, args: &[&str]) -> Out {
    let out = env.run(args);
    out.assert_mdrun_error();
    env.assert_clean();
    out
}

#[test]
fn unknown_image_is_refused() {
    let env = TestEnv::new();
    let out = refused(&env, &["no-such-image", "true"]);
    assert!(out.stderr.contains("no-such-image"), "{out}");
    refused(&env, &["busybox:no-such-tag", "true"]);
}

#[test]
fn command_not_found_leaves_nothing() {
    let env = TestEnv::new();
    env.run(&["busybox", "nope"]).assert_one_line_error(127);
    env.assert_clean();
}

#[test]
fn bad_memory_sizes_are_refused() {
    let env = TestEnv::new();
    for size in [
        "12q",
        "-5m",
        "0",
        "",
        "1.5.5m",
        "m",
        "99999999999999999999g",
    ] {
        let out = refused(&env, &[&format!("--memory={size}"), "busybox", "true"]);
        assert!(
            out.stderr.contains(size),
            "the message does not quote {size:?}:\n{out}"
        );
    }
    // As separate arguments too (a leading '-' must not turn it into an option).
    refused(&env, &["--memory", "-5m", "busybox", "true"]);
    refused(&env, &["-m", "12q", "busybox", "true"]);
    refused(
        &env,
        &["--memory-swap", "12q", "-m", "10m", "busybox", "true"],
    );
    // memory+swap below memory
    refused(
        &env,
        &["--memory-swap", "10m", "-m", "20m", "busybox", "true"],
    );
}

#[test]
fn bad_cpu_limits_are_refused() {
    let env = TestEnv::new();
    for cpus in ["99", "0", "-1", "abc", "3", "nan"] {
        refused(&env, &[&format!("--cpus={cpus}"), "busybox", "true"]);
    }
    for set in ["5", "0-9", "a", "1-0", ""] {
        refused(&env, &[&format!("--cpuset-cpus={set}"), "busybox", "true"]);
    }
    refused(&env, &["--cpu-shares", "1", "busybox", "true"]);
    refused(&env, &["--pids-limit", "0", "busybox", "true"]);
}

#[test]
fn bad_volumes_are_refused() {
    let env = TestEnv::new();
    let host = env.path("vol");
    let h = host.to_str().unwrap();
    let cases = [
        "/data".to_string(),         // no colon
        format!("{h}:data"),         // relative container path
        format!("{h}:/a/../../etc"), // .. escape
        format!("{h}:/../x"),        // .. escape at the root
        format!("{h}:/data:rx"),     // unknown mode
        format!("{h}:/data:ro:rw"),  // too many parts
        ":/data".to_string(),        // empty source
        format!("{h}:"),             // empty target
        "rel/dir:/data".to_string(), // relative host path, not a volume name
        format!("{h}:/"),            // over the whole root
    ];
    for volume in &cases {
        refused(&env, &["-v", volume, "busybox", "true"]);
    }
    assert!(
        !host.exists(),
        "a refused volume still created {}",
        host.display()
    );
    assert_eq!(
        files::names(&env.root.join("volumes")),
        Vec::<String>::new()
    );
}

#[test]
fn bad_names_are_refused() {
    let env = TestEnv::new();
    for name in ["a/b", "..x", ".x", "-x", "a b", &"a".repeat(65)] {
        let out = refused(&env, &["--name", name, "busybox", "true"]);
        assert!(!out.stderr.is_empty());
    }
    // The longest name that is allowed, and the other allowed characters.
    env.run(&["--name", &"a".repeat(64), "busybox", "true"])
        .assert_ok();
    env.run(&["--name", "web_1.a-b", "busybox", "true"])
        .assert_ok();
    env.assert_clean();
}

#[test]
fn other_bad_flags_are_refused() {
    let env = TestEnv::new();
    refused(&env, &["-w", "relative/dir", "busybox", "true"]);
    refused(&env, &["-h", "bad host", "busybox", "true"]);
    refused(&env, &["-e", "A B=1", "busybox", "true"]);
    refused(&env, &["-e", "=1", "busybox", "true"]);
    refused(&env, &["--env-file", "/nonexistent/env", "busybox", "true"]);
    refused(
        &env,
        &["--config", "/nonexistent/web.toml", "busybox", "true"],
    );
    refused(&env, &["--frobnicate", "busybox", "true"]);
    refused(&env, &["--memory"]);
    // No image at all.
    let out = env.mdrun(&["run", "--rm"]);
    out.assert_mdrun_error();
}

/// What an import may change: the layer store, the image records and the scratch space.
fn store(env: &TestEnv) -> BTreeMap<PathBuf, String> {
    let mut all = files::snapshot(&env.root.join("layers"));
    all.extend(
        files::snapshot(&env.root.join("images"))
            .into_iter()
            .map(|(p, d)| (PathBuf::from("images").join(p), d)),
    );
    all
}

#[track_caller]
fn import_refused(env: &TestEnv, tarball: &[u8], what: &str) -> Out {
    let before = store(env);
    let images_before = env.mdrun(&["images", "--format", "json"]);
    let file = env.path(&format!("{what}.tar"));
    fs::write(&file, tarball).unwrap();
    let out = env.mdrun(&["import", file.to_str().unwrap(), what]);
    out.assert_mdrun_error();
    let changes = files::diff(&before, &store(env));
    assert!(
        changes.is_empty(),
        "a refused import ({what}) changed the store:\n  {}",
        changes.join("\n  ")
    );
    assert_eq!(
        images_before.stdout,
        env.mdrun(&["images", "--format", "json"]).stdout
    );
    env.assert_clean();
    out
}

#[test]
fn corrupt_tarball_import_is_refused_whole() {
    let env = TestEnv::new();
    let garbage: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    import_refused(&env, &garbage, "garbage");
    import_refused(&env, b"", "empty");
    // A gzip stream whose content is corrupt.
    let tar = fs::read(busybox_tarball()).unwrap();
    let mut gz = gzip(&tar);
    let middle = gz.len() / 2;
    for b in &mut gz[middle..middle + 64] {
        *b ^= 0x5a;
    }
    import_refused(&env, &gz, "corrupt-gzip");
}

#[test]
fn truncated_tarball_import_is_refused_whole() {
    let env = TestEnv::new();
    let tar = fs::read(busybox_tarball()).unwrap();
    // In the middle of bin/busybox's data.
    import_refused(&env, &tar[..tar.len() / 2], "truncated");
    // Cut inside a header.
    import_refused(&env, &tar[..512 * 3 + 100], "cut-header");
    let gz = gzip(&tar);
    import_refused(&env, &gz[..gz.len() / 2], "truncated-gzip");
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A tarball with a working shell, so that an accepted import can still be run.
fn with_shell(tar: Tar) -> Tar {
    tar.entry("bin/", Kind::Dir)
        .entry("bin/sh", Kind::Symlink("/bin/busybox"))
}

#[test]
fn tarball_with_dotdot_entry_is_refused() {
    let env = TestEnv::new();
    let rel = env
        .dir
        .strip_prefix("/")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let deep = format!("{}{rel}/evil-deep", "../".repeat(20));
    let tar = Tar::new()
        .entry("etc/", Kind::Dir)
        .entry("../evil", Kind::File(b"evil"))
        .finish();
    import_refused(&env, &tar, "dotdot");
    let tar = Tar::new().entry(&deep, Kind::File(b"evil")).finish();
    import_refused(&env, &tar, "dotdot-deep");
    let tar = Tar::new()
        .entry("etc/../../evil-mid", Kind::File(b"evil"))
        .finish();
    import_refused(&env, &tar, "dotdot-mid");
    for name in ["evil", "evil-deep", "evil-mid"] {
        let found = files::find_named(&env.dir, name);
        assert!(found.is_empty(), "a ../ entry was written: {found:?}");
    }
    assert_absent(&env.dir.parent().unwrap().join("evil"));
}

/// An import that may be accepted (resolving the entry inside the layer) or refused, but
/// must not write outside the layer; returns whether it was accepted.
#[track_caller]
fn import_contained(env: &TestEnv, tarball: &[u8], what: &str) -> bool {
    let file = env.path(&format!("{what}.tar"));
    fs::write(&file, tarball).unwrap();
    let out = env.mdrun(&["import", file.to_str().unwrap(), what]);
    if out.code != 0 {
        out.assert_mdrun_error();
    }
    env.assert_clean();
    out.code == 0
}

#[test]
fn tarball_with_absolute_symlink_cannot_write_outside() {
    let env = TestEnv::new();
    let outside = env.path("outside");
    fs::create_dir(&outside).unwrap();
    let o = outside.to_str().unwrap();
    // A symlink to an absolute host directory, then a file "through" it.
    let tar = with_shell(Tar::new())
        .entry("escape", Kind::Symlink(o))
        .entry("escape/pwned", Kind::File(b"pwned"))
        .finish();
    import_contained(&env, &tar, "abs-symlink");
    // A relative symlink climbing out, then a file through it.
    let up = "../".repeat(20);
    let rel = format!("up/{}/pwned-rel", o.trim_start_matches('/'));
    let tar = with_shell(Tar::new())
        .entry("up", Kind::Symlink(&up))
        .entry(&rel, Kind::File(b"pwned"))
        .finish();
    import_contained(&env, &tar, "rel-symlink");
    // A symlink, then a directory entry and a file below it.
    let tar = Tar::new()
        .entry("d", Kind::Symlink(o))
        .entry("d/sub/", Kind::Dir)
        .entry("d/sub/pwned-dir", Kind::File(b"pwned"))
        .finish();
    import_contained(&env, &tar, "symlink-dir");
    // An absolute entry name.
    let tar = with_shell(Tar::new())
        .entry(&format!("{o}/pwned-abs"), Kind::File(b"pwned"))
        .finish();
    import_contained(&env, &tar, "abs-name");
    assert_eq!(
        files::names(&outside),
        Vec::<String>::new(),
        "an import wrote outside its layer"
    );
}

#[test]
fn tarball_with_hardlink_to_a_host_file_cannot_touch_it() {
    let env = TestEnv::new();
    let target = env.path("host-file");
    fs::write(&target, "original").unwrap();
    let t = target.to_str().unwrap();
    let tar = Tar::new()
        .entry("hl", Kind::Hardlink(t))
        .entry("hl", Kind::File(b"pwned"))
        .finish();
    import_contained(&env, &tar, "hardlink-abs");
    let up = format!("{}{}", "../".repeat(20), t.trim_start_matches('/'));
    let tar = Tar::new()
        .entry("hl2", Kind::Hardlink(&up))
        .entry("hl2", Kind::File(b"pwned"))
        .finish();
    import_contained(&env, &tar, "hardlink-rel");
    assert_eq!(fs::read_to_string(&target).unwrap(), "original");
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        fs::metadata(&target).unwrap().nlink(),
        1,
        "the host file got a hard link into a layer"
    );
}

#[test]
fn import_of_a_missing_file_is_refused() {
    let env = TestEnv::bare();
    let out = env.mdrun(&["import", "/nonexistent/rootfs.tar", "x"]);
    out.assert_mdrun_error();
    assert!(out.stderr.contains("/nonexistent/rootfs.tar"), "{out}");
    let tarball = busybox_tarball().to_str().unwrap();
    env.mdrun(&["import", tarball, "bad name!"])
        .assert_mdrun_error();
    env.assert_clean();
    assert_eq!(files::names(&env.root.join("layers")), Vec::<String>::new());
}
