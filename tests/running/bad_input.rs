//! Bad input is refused before anything is made: one line on stderr, exit 125, and nothing
//! left behind (no container record, runtime state, cgroup, mount or half-imported layer).

use crate::common::tarball::{Kind, Tar};
use crate::common::*;
use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

/// Collects refusals that went wrong, so that one run of a test reports every bad case.
struct Refusals<'a> {
    env: &'a TestEnv,
    problems: Vec<String>,
}

impl<'a> Refusals<'a> {
    fn new(env: &'a TestEnv) -> Self {
        Refusals {
            env,
            problems: Vec::new(),
        }
    }

    /// `mdrun run --rm ARGS` must fail with 125, one line on stderr and nothing left behind.
    fn check(&mut self, args: &[&str]) -> Out {
        let out = self.env.run(args);
        self.judge(&out, 125);
        out
    }

    /// `out` must be a one-line failure with `code`, with nothing left behind.
    fn judge(&mut self, out: &Out, code: i32) {
        let lines: Vec<&str> = out.stderr.lines().collect();
        if out.code != code {
            self.problems
                .push(format!("exit {} instead of {code}:\n{out}", out.code));
        } else if lines.len() != 1 || !lines[0].starts_with("mdrun: ") {
            self.problems
                .push(format!("not one 'mdrun: ' line on stderr:\n{out}"));
        }
        let left = self.env.leftovers(true);
        if !left.is_empty() {
            self.problems.push(format!(
                "{:?} left behind:\n  {}",
                out.args,
                left.join("\n  ")
            ));
        }
    }

    fn expect(&mut self, ok: bool, problem: impl FnOnce() -> String) {
        if !ok {
            self.problems.push(problem());
        }
    }

    #[track_caller]
    fn finish(self) {
        assert!(
            self.problems.is_empty(),
            "{} bad input(s) not refused as they should be:\n\n{}",
            self.problems.len(),
            self.problems.join("\n\n")
        );
    }
}

#[test]
fn unknown_image_is_refused() {
    let env = TestEnv::new();
    let mut r = Refusals::new(&env);
    let out = r.check(&["no-such-image", "true"]);
    r.expect(out.stderr.contains("no-such-image"), || {
        format!("the image is not named:\n{out}")
    });
    r.check(&["busybox:no-such-tag", "true"]);
    r.finish();
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
    let mut r = Refusals::new(&env);
    for size in [
        "12q",
        "-5m",
        "0",
        "",
        "1.5.5m",
        "m",
        "99999999999999999999g",
    ] {
        let out = r.check(&[&format!("--memory={size}"), "busybox", "true"]);
        r.expect(out.stderr.contains(size), || {
            format!("the message does not quote {size:?}:\n{out}")
        });
    }
    // As separate arguments too (a leading '-' must not turn it into an option).
    r.check(&["--memory", "-5m", "busybox", "true"]);
    r.check(&["-m", "12q", "busybox", "true"]);
    r.check(&["--memory-swap", "12q", "-m", "10m", "busybox", "true"]);
    // memory+swap below memory
    r.check(&["--memory-swap", "10m", "-m", "20m", "busybox", "true"]);
    r.finish();
}

#[test]
fn bad_cpu_limits_are_refused() {
    let env = TestEnv::new();
    let mut r = Refusals::new(&env);
    for cpus in ["99", "0", "-1", "abc", "3", "nan"] {
        r.check(&[&format!("--cpus={cpus}"), "busybox", "true"]);
    }
    for set in ["5", "0-9", "a", "1-0", ""] {
        r.check(&[&format!("--cpuset-cpus={set}"), "busybox", "true"]);
    }
    r.check(&["--cpu-shares", "1", "busybox", "true"]);
    r.check(&["--pids-limit", "0", "busybox", "true"]);
    r.finish();
}

#[test]
fn bad_volumes_are_refused() {
    let env = TestEnv::new();
    let mut r = Refusals::new(&env);
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
        r.check(&["-v", volume, "busybox", "true"]);
    }
    r.expect(!host.exists(), || {
        format!("a refused volume still created {}", host.display())
    });
    let volumes = files::names(&env.root.join("volumes"));
    r.expect(volumes.is_empty(), || {
        format!("refused volumes were made: {volumes:?}")
    });
    r.finish();
}

#[test]
fn bad_names_are_refused() {
    let env = TestEnv::new();
    let mut r = Refusals::new(&env);
    for name in ["a/b", "..x", ".x", "-x", "a b", &"a".repeat(65)] {
        r.check(&["--name", name, "busybox", "true"]);
        r.check(&[&format!("--name={name}"), "busybox", "true"]);
    }
    r.finish();
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
    let mut r = Refusals::new(&env);
    r.check(&["-w", "relative/dir", "busybox", "true"]);
    r.check(&["-h", "bad host", "busybox", "true"]);
    r.check(&["-e", "A B=1", "busybox", "true"]);
    r.check(&["-e", "=1", "busybox", "true"]);
    r.check(&["--env-file", "/nonexistent/env", "busybox", "true"]);
    r.check(&["--config", "/nonexistent/web.toml", "busybox", "true"]);
    r.check(&["--frobnicate", "busybox", "true"]);
    r.check(&["--memory"]);
    // No image at all.
    r.check(&[]);
    r.finish();
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

impl Refusals<'_> {
    /// `mdrun import` of these bytes must fail with 125 and one line, and change nothing in
    /// the store (no layer, no image record, nothing half-unpacked in `<root>/tmp`).
    fn import(&mut self, tarball: &[u8], what: &str) -> Out {
        let env = self.env;
        let before = store(env);
        let images_before = env.mdrun(&["images", "--format", "json"]).stdout;
        let file = env.path(&format!("{what}.tar"));
        fs::write(&file, tarball).unwrap();
        let out = env.mdrun(&["import", file.to_str().unwrap(), what]);
        self.judge(&out, 125);
        let changes = files::diff(&before, &store(env));
        self.expect(changes.is_empty(), || {
            format!(
                "a refused import ({what}) changed the store:\n  {}",
                changes.join("\n  ")
            )
        });
        let images_after = env.mdrun(&["images", "--format", "json"]).stdout;
        self.expect(images_before == images_after, || {
            format!("a refused import ({what}) changed `images`:\n{images_after}")
        });
        out
    }

    /// An import that may be accepted (resolving every entry inside the layer) or refused
    /// (125, one line), but never writes outside the layer. Returns the exit code.
    fn import_contained(&mut self, tarball: &[u8], what: &str) -> i32 {
        let file = self.env.path(&format!("{what}.tar"));
        fs::write(&file, tarball).unwrap();
        let out = self.env.mdrun(&["import", file.to_str().unwrap(), what]);
        if out.code != 0 {
            self.judge(&out, 125);
        }
        out.code
    }
}

#[test]
fn corrupt_tarball_import_is_refused_whole() {
    let env = TestEnv::new();
    let mut r = Refusals::new(&env);
    let garbage: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    r.import(&garbage, "garbage");
    r.import(b"", "empty");
    // A gzip stream whose content is corrupt.
    let tar = fs::read(busybox_tarball()).unwrap();
    let mut gz = gzip(&tar);
    let middle = gz.len() / 2;
    for b in &mut gz[middle..middle + 64] {
        *b ^= 0x5a;
    }
    r.import(&gz, "corrupt-gzip");
    r.finish();
}

#[test]
fn truncated_tarball_import_is_refused_whole() {
    let env = TestEnv::new();
    let mut r = Refusals::new(&env);
    let tar = fs::read(busybox_tarball()).unwrap();
    // In the middle of bin/busybox's data.
    r.import(&tar[..tar.len() / 2], "truncated");
    // Cut inside a header.
    r.import(&tar[..512 * 3 + 100], "cut-header");
    let gz = gzip(&tar);
    r.import(&gz[..gz.len() / 2], "truncated-gzip");
    r.finish();
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
    let mut r = Refusals::new(&env);
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
    r.import(&tar, "dotdot");
    let tar = Tar::new().entry(&deep, Kind::File(b"evil")).finish();
    r.import(&tar, "dotdot-deep");
    let tar = Tar::new()
        .entry("etc/../../evil-mid", Kind::File(b"evil"))
        .finish();
    r.import(&tar, "dotdot-mid");
    for name in ["evil", "evil-deep", "evil-mid"] {
        let found = files::find_named(&env.dir, name);
        r.expect(found.is_empty(), || {
            format!("a ../ entry was written: {found:?}")
        });
    }
    let beside = env.dir.parent().unwrap().join("evil");
    r.expect(fs::symlink_metadata(&beside).is_err(), || {
        format!("{} was written", beside.display())
    });
    r.finish();
}

#[test]
fn tarball_with_symlinks_out_of_the_layer_cannot_write_outside() {
    let env = TestEnv::new();
    let mut r = Refusals::new(&env);
    let outside = env.path("outside");
    fs::create_dir(&outside).unwrap();
    let o = outside.to_str().unwrap();
    // A symlink to an absolute host directory, then a file "through" it.
    let tar = with_shell(Tar::new())
        .entry("escape", Kind::Symlink(o))
        .entry("escape/pwned", Kind::File(b"pwned"))
        .finish();
    r.import_contained(&tar, "abs-symlink");
    // A relative symlink climbing out, then a file through it.
    let up = "../".repeat(20);
    let rel = format!("up/{}/pwned-rel", o.trim_start_matches('/'));
    let tar = with_shell(Tar::new())
        .entry("up", Kind::Symlink(&up))
        .entry(&rel, Kind::File(b"pwned"))
        .finish();
    r.import_contained(&tar, "rel-symlink");
    // A symlink, then a directory entry and a file below it.
    let tar = Tar::new()
        .entry("d", Kind::Symlink(o))
        .entry("d/sub/", Kind::Dir)
        .entry("d/sub/pwned-dir", Kind::File(b"pwned"))
        .finish();
    r.import_contained(&tar, "symlink-dir");
    // An absolute entry name.
    let tar = with_shell(Tar::new())
        .entry(&format!("{o}/pwned-abs"), Kind::File(b"pwned"))
        .finish();
    r.import_contained(&tar, "abs-name");
    let written = files::names(&outside);
    r.expect(written.is_empty(), || {
        format!("an import wrote outside its layer: {written:?}")
    });
    r.finish();
}

#[test]
fn tarball_with_hardlink_to_a_host_file_cannot_touch_it() {
    use std::os::unix::fs::MetadataExt;
    let env = TestEnv::new();
    let mut r = Refusals::new(&env);
    let target = env.path("host-file");
    fs::write(&target, "original").unwrap();
    let t = target.to_str().unwrap();
    let tar = Tar::new()
        .entry("hl", Kind::Hardlink(t))
        .entry("hl", Kind::File(b"pwned"))
        .finish();
    r.import_contained(&tar, "hardlink-abs");
    let up = format!("{}{}", "../".repeat(20), t.trim_start_matches('/'));
    let tar = Tar::new()
        .entry("hl2", Kind::Hardlink(&up))
        .entry("hl2", Kind::File(b"pwned"))
        .finish();
    r.import_contained(&tar, "hardlink-rel");
    let content = fs::read_to_string(&target).unwrap();
    r.expect(content == "original", || {
        format!("the host file now holds {content:?}")
    });
    let links = fs::metadata(&target).unwrap().nlink();
    r.expect(links == 1, || {
        format!("the host file got {} hard link(s) into a layer", links - 1)
    });
    r.finish();
}

#[test]
fn import_of_a_missing_file_or_with_a_bad_name_is_refused() {
    let env = TestEnv::bare();
    let mut r = Refusals::new(&env);
    let out = env.mdrun(&["import", "/nonexistent/rootfs.tar", "x"]);
    r.judge(&out, 125);
    r.expect(out.stderr.contains("/nonexistent/rootfs.tar"), || {
        format!("the path is not named:\n{out}")
    });
    let tarball = busybox_tarball().to_str().unwrap();
    let out = env.mdrun(&["import", tarball, "bad name!"]);
    r.judge(&out, 125);
    let layers = files::names(&env.root.join("layers"));
    r.expect(layers.is_empty(), || {
        format!("layers were left: {layers:?}")
    });
    r.finish();
}

#[test]
fn memory_limits_below_6mb_are_refused() {
    let env = TestEnv::new();
    let mut r = Refusals::new(&env);
    let says_why = |out: &Out| out.stderr.contains("below the minimum allowed, 6MB");
    for size in ["1k", "5m", "6291455", "5.99m"] {
        let out = r.check(&["--memory", size, "busybox", "true"]);
        r.expect(says_why(&out) && out.stderr.contains(size), || {
            format!("--memory {size}: not refused as below 6MB:\n{out}")
        });
    }
    let file = env.path("small.toml");
    fs::write(&file, "image = \"busybox\"\nlimits.memory = 5\n").unwrap();
    let out = r.check(&["--config", file.to_str().unwrap(), "busybox", "true"]);
    r.expect(
        says_why(&out) && out.stderr.contains("small.toml:2"),
        || format!("limits.memory = 5 in a container file:\n{out}"),
    );
    // As the global default, every run is refused until it is fixed.
    let config = fs::read_to_string(&env.config).unwrap();
    fs::write(
        &env.config,
        format!("{config}[defaults]\nmemory = \"1k\"\n"),
    )
    .unwrap();
    let out = r.check(&["busybox", "true"]);
    r.expect(
        says_why(&out) && out.stderr.contains("defaults.memory"),
        || format!("[defaults] memory = \"1k\":\n{out}"),
    );
    fs::write(&env.config, config).unwrap();
    r.finish();
    // The minimum itself is allowed.
    env.run(&["--memory", "6m", "busybox", "true"]).assert_ok();
    env.assert_clean();
}

#[test]
fn huge_values_are_quoted_short() {
    let env = TestEnv::new();
    let mut r = Refusals::new(&env);
    let short_enough = |r: &mut Refusals, out: &Out| {
        r.expect(
            out.stderr.len() < 600 && out.stderr.contains(" bytes)"),
            || {
                format!(
                    "{} bytes of message (the value cut with its length expected):\n{}...",
                    out.stderr.len(),
                    &out.stderr[..out.stderr.len().min(800)]
                )
            },
        );
    };
    // On the command line (an argument is at most 128 KiB).
    let big = "a".repeat(100_000);
    let digits = "1".repeat(100_000);
    for args in [
        vec![big.as_str(), "true"],
        vec!["--memory", &digits, "busybox", "true"],
        vec!["--name", &big, "busybox", "true"],
        vec!["-v", &big, "busybox", "true"],
        vec!["--cap-add", &big, "busybox", "true"],
        vec!["--security-opt", &big, "busybox", "true"],
        vec!["-w", &big, "busybox", "true"],
    ] {
        let out = r.check(&args);
        short_enough(&mut r, &out);
    }
    for args in [vec!["rm", &big], vec!["kill", "-s", &big, "x"]] {
        let out = env.mdrun(&args);
        r.judge(&out, 125);
        short_enough(&mut r, &out);
    }
    // In a container file, 10 MB each.
    let huge = "a".repeat(10 << 20);
    let file = env.path("huge.toml");
    for text in [
        format!("image = \"{huge}\"\n"),
        format!("image = \"busybox\"\nhostname = \"{huge}\"\n"),
        format!("image = \"busybox\"\nlimits.memory = \"1{huge}\"\n"),
        format!("image = \"busybox\"\n{huge} = 1\n"),
        format!("image = \"busybox\"\nenv = {{ {huge} = [1] }}\n"),
        format!("image = \"busybox\"\nvolumes = [\"{huge}\"]\n"),
    ] {
        fs::write(&file, &text).unwrap();
        let out = r.check(&["--config", file.to_str().unwrap()]);
        short_enough(&mut r, &out);
    }
    // A syntax error that toml describes itself: whatever it echoes, the line is capped.
    fs::write(&file, format!("image = \"{huge}\n")).unwrap();
    let out = r.check(&["--config", file.to_str().unwrap()]);
    r.expect(out.stderr.len() < 2200, || {
        format!("{} bytes of message for a syntax error", out.stderr.len())
    });
    r.finish();
}
