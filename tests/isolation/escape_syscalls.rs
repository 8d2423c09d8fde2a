//! The escape and abuse suite, system-call side: a static probe (tests/fixtures/
//! escape_probe.rs) tries from inside a default container every call an escape needs
//! (mount, module loading, kexec, open_by_handle_at, reboot, swapon, clock setting, the
//! keyring, bpf, user namespaces, a host disk through mknod, a chroot escape ...), and each
//! must fail with the errno docker's defaults give. Then the options that give the power
//! back (`--privileged`, `--cap-add`) are shown to do so, and the host is checked unchanged.
#![cfg(target_arch = "x86_64")]

use crate::common::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const EPERM: i32 = 1;
const ENOENT: i32 = 2;
const ENOSYS: i32 = 38;

/// Build the probe once per test binary: a static executable, since the busybox image has
/// no libc. Plain rustc, std only: whatever builds mdrun builds this.
fn probe() -> &'static Path {
    static PROBE: OnceLock<PathBuf> = OnceLock::new();
    PROBE.get_or_init(|| crate::common::fixture::static_probe("escape_probe"))
}

/// A host block device (`MAJOR:MINOR`), from /proc/partitions.
fn host_disk() -> String {
    let text = std::fs::read_to_string("/proc/partitions").unwrap();
    let line = text
        .lines()
        .skip(2)
        .find(|l| !l.trim().is_empty())
        .expect("no block device on this host");
    let f: Vec<&str> = line.split_whitespace().collect();
    format!("{}:{}", f[0], f[1])
}

/// Run the probe in a container with `flags`; returns call -> errno (0 = it succeeded).
fn run_probe(env: &TestEnv, flags: &[&str], gentle: bool) -> BTreeMap<String, i32> {
    let marker = env.path("host-marker");
    std::fs::write(&marker, "host").unwrap();
    let volume = format!("{}:/probe:ro", probe().display());
    let disk = host_disk();
    let mut args: Vec<&str> = flags.to_vec();
    args.extend([
        "-v",
        &volume,
        "busybox",
        "/probe/escape_probe",
        &disk,
        marker.to_str().unwrap(),
    ]);
    if gentle {
        args.push("gentle");
    }
    let out = env.run(&args);
    out.assert_ok();
    out.stdout
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(k, v)| (k.to_string(), v.parse().unwrap()))
        .collect()
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap()
}

#[test]
fn default_container_cannot_make_the_calls_an_escape_needs() {
    let env = TestEnv::new();
    let host_name = hostname();
    let got = run_probe(&env, &[], false);
    let refused = [
        "mount",
        "fsopen",
        "umount2",
        "pivot_root",
        "open_block",
        "init_module",
        "finit_module",
        "delete_module",
        "kexec_load",
        "kexec_file_load",
        "open_by_handle_at",
        "name_to_handle_at",
        "reboot",
        "swapon",
        "swapoff",
        "clock_settime",
        "settimeofday",
        "clock_adjtime",
        "keyctl",
        "add_key",
        "bpf",
        "perf_event_open",
        "userfaultfd",
        "io_uring_setup",
        "syslog",
        "acct",
        "iopl",
        "personality",
        "unshare_user",
        "unshare_mount",
        "setns",
        "clone_newuser",
        "sethostname",
    ];
    let mut wrong = Vec::new();
    for call in refused {
        match got.get(call) {
            Some(&EPERM) => {}
            other => wrong.push(format!("{call}: expected EPERM, got {other:?}")),
        }
    }
    let expect_exact = [
        ("kcore_bytes", 0),           // masked with /dev/null
        ("mknod_block", 0),           // allowed, as in docker: the device cgroup stops the open
        ("clone3", ENOSYS),           // so that libc falls back to clone, whose flags are filtered
        ("chroot", 0),                // CAP_SYS_CHROOT is a default ...
        ("stat_host_marker", ENOENT), // ... and leads nowhere: no host root to climb to
        ("getpid", 1),
    ];
    for (call, want) in expect_exact {
        if got.get(call) != Some(&want) {
            wrong.push(format!("{call}: expected {want}, got {:?}", got.get(call)));
        }
    }
    assert!(
        wrong.is_empty(),
        "{}\nall results: {got:?}",
        wrong.join("\n")
    );
    assert!(
        !got.contains_key("read_block"),
        "the host disk was opened: {got:?}"
    );
    assert_eq!(hostname(), host_name, "the host's hostname changed");
    env.assert_clean();
}

/// Without the filter, the dropped capabilities alone still refuse the privileged calls:
/// `seccomp=unconfined` is not an escape either.
#[test]
fn capabilities_alone_still_refuse_the_privileged_calls() {
    let env = TestEnv::new();
    let got = run_probe(&env, &["--security-opt", "seccomp=unconfined"], false);
    for call in [
        "mount",
        "umount2",
        "init_module",
        "finit_module",
        "kexec_load",
        "open_by_handle_at",
        "reboot",
        "swapon",
        "clock_settime",
        "settimeofday",
        "sethostname",
        "acct",
        "iopl",
        "open_block",
    ] {
        // EPERM mostly; some calls check their path first (umount2 says ENOENT here).
        assert!(
            matches!(got.get(call), Some(e) if *e != 0),
            "{call} succeeded: {got:?}"
        );
    }
    // Reading the clock's state is fine; the keyring is what only the filter keeps out.
    assert_eq!(
        got.get("clock_adjtime").map(|e| *e != EPERM),
        Some(true),
        "{got:?}"
    );
    assert_eq!(got.get("keyctl"), Some(&0), "{got:?}");
    // And a user namespace, in which the process has every capability again (the reason
    // docker's profile refuses unshare and namespace flags to clone).
    assert_eq!(got.get("unshare_user"), Some(&0), "{got:?}");
    env.assert_clean();
}

#[test]
fn cap_add_gives_back_the_calls_of_that_capability_only() {
    let env = TestEnv::new();
    let got = run_probe(&env, &["--cap-add", "SYS_TIME"], true);
    // clock_adjtime in read-only mode: refused by the filter by default, allowed now.
    assert_eq!(got.get("clock_adjtime"), Some(&0), "{got:?}");
    for call in ["mount", "init_module", "keyctl", "reboot", "unshare_user"] {
        assert_eq!(got.get(call), Some(&EPERM), "{call}: {got:?}");
    }
    env.assert_clean();
}

#[test]
fn privileged_gives_back_mounts_the_keyring_and_the_clock() {
    let env = TestEnv::new();
    let host_name = hostname();
    let got = run_probe(&env, &["--privileged"], true);
    // (Not the host disk: the cgroup mdrun itself runs in may deny it to everything below.)
    for call in ["mount", "keyctl", "clock_adjtime", "fsopen", "syslog"] {
        assert_eq!(got.get(call), Some(&0), "{call}: {got:?}");
    }
    assert_eq!(hostname(), host_name, "the host's hostname changed");
    env.assert_clean();
}
