//! Randomised robustness tests ("fuzzing" on stable Rust) for the parsers of user input:
//! sizes, cpus, volume specs, names, env pairs, image references, `--tmpfs`, the TOML
//! container and global configs, and tar archives with hostile entry paths.
//!
//! Each target mutates a corpus of valid and nasty seeds (byte flips, splices, inserted
//! separators and unicode) and feeds the result to the parser: a panic, or an archive that
//! writes outside the import directory, fails the test. Bounded by time, not count:
//!
//!   MDRUN_FUZZ_SECS=60 cargo test --release --test parsers fuzz_   (CI: 60 s in all)
//!   MDRUN_FUZZ_SEED=1234 ...                                          (replay a run)
//!
//! The default is 2 s per target so that `cargo test` stays quick. The seed is printed.

use crate::common;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::path::Path;
use std::time::{Duration, Instant};

const TARGETS: u32 = 4;

fn budget() -> Duration {
    let total: f64 = std::env::var("MDRUN_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0 * TARGETS as f64);
    Duration::from_secs_f64(total / TARGETS as f64)
}

fn rng(target: &str) -> StdRng {
    let seed = std::env::var("MDRUN_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    eprintln!("fuzz {target}: MDRUN_FUZZ_SEED={seed}");
    StdRng::seed_from_u64(seed)
}

const DICT: &[&str] = &[
    ":",
    "::",
    "/",
    "..",
    ".",
    "\0",
    "\n",
    "=",
    ",",
    "-",
    "-1",
    "0",
    "9999999999999999999999",
    "1e308",
    "NaN",
    "k",
    "m",
    "g",
    "t",
    "b",
    "KiB",
    "ro",
    "rw",
    "z",
    "Z",
    "@sha256:",
    "é",
    "\u{202e}",
    "\u{fffd}",
    "[",
    "]",
    "\"",
    "'",
    "{",
    "}",
    "#",
    " ",
    "\t",
    "%",
    "\\",
];

fn mutate(rng: &mut StdRng, seeds: &[&str]) -> String {
    let mut s: Vec<u8> = seeds[rng.random_range(0..seeds.len())].as_bytes().to_vec();
    for _ in 0..rng.random_range(1..6) {
        match rng.random_range(0..6) {
            0 if !s.is_empty() => {
                let i = rng.random_range(0..s.len());
                s[i] = rng.random();
            }
            1 if !s.is_empty() => {
                let i = rng.random_range(0..s.len());
                let j = rng.random_range(i..=s.len());
                s.drain(i..j);
            }
            2 => {
                let i = rng.random_range(0..=s.len());
                let w = DICT[rng.random_range(0..DICT.len())].as_bytes();
                s.splice(i..i, w.iter().copied());
            }
            3 => {
                let other = seeds[rng.random_range(0..seeds.len())].as_bytes();
                let i = rng.random_range(0..=s.len());
                let j = rng.random_range(0..=other.len());
                s.truncate(i);
                s.extend_from_slice(&other[j..]);
            }
            4 if !s.is_empty() && s.len() < 4096 => {
                let i = rng.random_range(0..s.len());
                let j = rng.random_range(i..=s.len().min(i + 16));
                let chunk = s[i..j].to_vec();
                s.splice(i..i, chunk);
            }
            _ => s.push(rng.random_range(0x20..0x7f)),
        }
    }
    String::from_utf8_lossy(&s).into_owned()
}

fn run_for(target: &str, mut one: impl FnMut(&mut StdRng)) {
    let mut rng = rng(target);
    let deadline = Instant::now() + budget();
    let mut n = 0u64;
    while Instant::now() < deadline {
        one(&mut rng);
        n += 1;
    }
    eprintln!("fuzz {target}: {n} inputs");
    assert!(n > 0);
}

#[test]
fn fuzz_command_line_parsers() {
    let sizes = [
        "100m", "1g", "512k", "1024", "1.5g", "-1", "0b", "100M", "1t", "12.25m",
    ];
    let cpus = ["0.5", "1", "2", "0.001", "1.", "-1", "1e3"];
    let cpusets = ["0", "0-1", "0,1", "1-0", "0-", ",", "0-1,1"];
    let volumes = [
        "/a:/b",
        "/a:/b:ro",
        "name:/b",
        "name:/b:rw",
        "/a:/b:ro,z",
        "a/../b:/c",
        "/:/",
        "v:/x/../y",
    ];
    let names = ["web", "web-1", "a.b_c", "-x", "", "x".repeat(300).leak()];
    let envs = ["A=b", "A", "=x", "A=", "A==b", "PATH=/bin:/usr/bin"];
    let refs = [
        "busybox",
        "busybox:latest",
        "a/b:c",
        "UPPER",
        "x@sha256:00",
        "localhost:5000/a:b",
        "a:b:c",
    ];
    let tmpfs = [
        "/tmp",
        "/run:size=64m,mode=1777",
        "/x:ro,exec,uid=1000",
        "/x:size=1%",
        "relative",
    ];
    let cpus_host = 2;
    run_for("command line", |rng| {
        let _ = mdrun::parse::size(&mutate(rng, &sizes));
        let _ = mdrun::parse::memory_swap(&mutate(rng, &sizes));
        let _ = mdrun::parse::cpus(&mutate(rng, &cpus), cpus_host);
        let _ = mdrun::parse::cpuset(&mutate(rng, &cpusets), cpus_host);
        if let Ok(v) = mdrun::parse::volume(&mutate(rng, &volumes)) {
            // What the parser promises: an absolute, normalised target.
            assert!(v.target.is_absolute(), "{v:?}");
            assert!(
                !v.target
                    .components()
                    .any(|c| matches!(c, std::path::Component::ParentDir)),
                "{v:?}"
            );
        }
        let _ = mdrun::parse::name(&mutate(rng, &names));
        let _ = mdrun::parse::hostname(&mutate(rng, &names));
        let _ = mdrun::parse::env_pair(&mutate(rng, &envs));
        let _ = mdrun::parse::image_ref(&mutate(rng, &refs));
        let _ = mdrun::image::Reference::parse(&mutate(rng, &refs));
        if let Ok(t) = mdrun::security::parse_tmpfs(&mutate(rng, &tmpfs)) {
            assert!(
                t.target.is_absolute() && t.target != Path::new("/"),
                "{t:?}"
            );
            assert!(!t.data.contains(['\0', '\n']), "{t:?}");
        }
    });
}

#[test]
fn fuzz_container_config_toml() {
    let seeds = [
        "image = \"busybox\"\ncommand = [\"sh\", \"-c\", \"echo hi\"]\n",
        "image = \"busybox\"\nname = \"web\"\nhostname = \"h\"\nworkdir = \"/srv\"\n[env]\nA = \"b\"\n",
        "[limits]\nmemory = \"100m\"\ncpus = 0.5\npids_limit = 20\nmemory_swap = -1\n",
        "volumes = [\"/a:/b:ro\", \"data:/data\"]\n",
        "[[volumes]]\nsource = \"/a\"\ntarget = \"/b\"\n",
        "image = 1\n[limits]\nmemory = [1,2]\n",
    ];
    let file = Path::new("/fuzz/container.toml");
    run_for("container config", |rng| {
        let _ = mdrun::config::parse_container(file, &mutate(rng, &seeds), 2);
    });
}

#[test]
fn fuzz_global_config_toml() {
    let seeds = [
        "root = \"/var/lib/mdrun\"\nrun_root = \"/run/mdrun\"\ncgroup_parent = \"/x\"\n",
        "cgroup_manager = \"systemd\"\nlog_driver = \"journald\"\n[default_limits]\nmemory = \"1g\"\n",
        "root = \"relative\"\nunknown = 3\n",
    ];
    let file = Path::new("/fuzz/mdrun.toml");
    run_for("global config", |rng| {
        let _ = mdrun::config::GlobalConfig::parse(file, &mutate(rng, &seeds), 2);
    });
}

/// A tar archive of random entries (hostile names, links, types, truncation), imported into
/// a store in a scratch directory: it may fail, but never panic and never write outside.
#[test]
fn fuzz_tar_entry_paths() {
    common::require_root();
    let base = std::env::temp_dir().join(format!("mdrun-fuzz-tar-{}", std::process::id()));
    let outside = base.join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    let store = mdrun::image::Store::new(mdrun::paths::Paths::new(
        base.join("root"),
        base.join("run"),
    ));
    let names = [
        "etc/passwd",
        "../outside/x",
        "/abs/y",
        "a/../../outside/z",
        "./b",
        "dir/",
        ".wh.gone",
        "d/.wh..wh..opq",
        "l",
        "a/b/c/d",
        "..",
        ".",
        "",
    ];
    let targets = [
        "/",
        "..",
        "../outside",
        "/etc",
        "a",
        "../../outside/z",
        "l/../..",
    ];
    run_for("tar entry paths", |rng| {
        let mut builder = tar::Builder::new(Vec::new());
        for _ in 0..rng.random_range(1..8) {
            let name = mutate(rng, &names);
            let mut h = tar::Header::new_gnu();
            let kind = rng.random_range(0..4);
            h.set_entry_type(match kind {
                0 => tar::EntryType::Regular,
                1 => tar::EntryType::Directory,
                2 => tar::EntryType::Symlink,
                _ => tar::EntryType::Link,
            });
            h.set_mode(rng.random_range(0..0o7777));
            let body: &[u8] = if kind == 0 { b"data" } else { b"" };
            h.set_size(body.len() as u64);
            if kind >= 2 {
                let _ = h.set_link_name(mutate(rng, &targets));
            }
            // Raw name bytes: the builder's own checks would refuse the hostile ones.
            let raw = name.as_bytes();
            let gnu = h.as_gnu_mut().unwrap();
            let n = raw.len().min(gnu.name.len());
            gnu.name[..n].copy_from_slice(&raw[..n]);
            h.set_cksum();
            let _ = builder.append(&h, body);
        }
        let mut bytes = builder.into_inner().unwrap_or_default();
        if rng.random_range(0..4) == 0 && !bytes.is_empty() {
            let cut = rng.random_range(0..bytes.len());
            bytes.truncate(cut);
        }
        let _ = store.import(Box::new(std::io::Cursor::new(bytes)), "fuzz:latest");
        assert!(
            common::files::names(&outside).is_empty(),
            "an archive wrote outside the store"
        );
        assert!(!base.join("abs").exists() && !Path::new("/abs/y").exists());
    });
    let _ = std::fs::remove_dir_all(&base);
}
