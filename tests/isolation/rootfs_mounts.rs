//! The container's mount table, cgroup view and terminal, as issue 2 describes them: /proc
//! nosuid,nodev,noexec; /dev a tmpfs with its own devpts, shm and mqueue; /sys read-only;
//! the old root gone after pivot_root; a cgroup namespace of its own; a terminal when mdrun
//! is started from one without -t or -i; and the cgroup nesting under mdrun's own by
//! default.

use crate::common::*;
use std::fs;

/// `mountpoint fstype options` for every mount the container sees.
const MOUNTS: &str = "awk '{ for (i = 7; $i != \"-\"; i++) ; print $5, $(i+1), $6 \",\" $(i+3) }' /proc/self/mountinfo";

fn mounts_inside(env: &TestEnv) -> Vec<(String, String, Vec<String>)> {
    let out = env.run(&["busybox", "sh", "-c", MOUNTS]);
    out.assert_ok();
    out.stdout
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            assert_eq!(f.len(), 3, "bad line {l:?}:\n{out}");
            (
                f[0].to_string(),
                f[1].to_string(),
                f[2].split(',').map(str::to_string).collect(),
            )
        })
        .collect()
}

fn find<'a>(
    mounts: &'a [(String, String, Vec<String>)],
    point: &str,
) -> &'a (String, String, Vec<String>) {
    mounts
        .iter()
        .find(|m| m.0 == point)
        .unwrap_or_else(|| panic!("no mount at {point}: {mounts:?}"))
}

#[test]
fn kernel_filesystems_are_mounted_with_the_right_types_and_flags() {
    let env = TestEnv::new();
    let mounts = mounts_inside(&env);
    let has = |m: &(String, String, Vec<String>), opt: &str| m.2.iter().any(|o| o == opt);

    let root = find(&mounts, "/");
    assert_eq!(root.1, "overlay", "{root:?}");
    let proc = find(&mounts, "/proc");
    assert_eq!(proc.1, "proc");
    for opt in ["nosuid", "nodev", "noexec"] {
        assert!(has(proc, opt), "/proc lacks {opt}: {proc:?}");
    }
    let dev = find(&mounts, "/dev");
    assert_eq!(dev.1, "tmpfs", "{dev:?}");
    let pts = find(&mounts, "/dev/pts");
    assert_eq!(pts.1, "devpts", "{pts:?}");
    assert!(
        has(pts, "ptmxmode=666"),
        "devpts without its own ptmx: {pts:?}"
    );
    assert_eq!(find(&mounts, "/dev/shm").1, "tmpfs");
    assert_eq!(find(&mounts, "/dev/mqueue").1, "mqueue");
    let sys = find(&mounts, "/sys");
    assert_eq!(sys.1, "sysfs");
    assert!(has(sys, "ro"), "/sys is writable: {sys:?}");
    env.assert_clean();
}

#[test]
fn the_old_root_is_gone_and_no_host_mount_is_visible() {
    let env = TestEnv::new();
    let mounts = mounts_inside(&env);
    for (point, fstype, _) in &mounts {
        let ok = point == "/"
            || ["/proc", "/dev", "/sys"]
                .iter()
                .any(|p| point == p || point.starts_with(&format!("{p}/")));
        assert!(
            ok,
            "a mount that is not the container's: {point} ({fstype}): {mounts:?}"
        );
    }
    let out = env.run(&["busybox", "sh", "-c", "ls -a / | grep -c pivot_root; true"]);
    assert_eq!(
        out.out(),
        "0",
        "the put_old directory is still there: {out}"
    );
    // The new /dev/pts is a fresh instance: it holds no host terminal.
    let out = env.run(&["busybox", "ls", "/dev/pts"]);
    assert_eq!(out.out(), "ptmx", "{out}");
    env.assert_clean();
}

#[test]
fn the_container_has_a_cgroup_namespace_of_its_own() {
    let env = TestEnv::new();
    let out = env.run(&["busybox", "cat", "/proc/self/cgroup"]);
    out.assert_ok();
    assert!(!out.stdout.is_empty(), "{out}");
    for line in out.stdout.lines() {
        assert!(
            line.ends_with(":/"),
            "the container sees a cgroup path of the host: {line}\n{out}"
        );
    }
    let ns = |pid: &str| fs::read_link(format!("/proc/{pid}/ns/cgroup")).unwrap();
    let mine = ns("self");
    env.keep_containers();
    let id = env
        .mdrun(&["run", "-d", "--name", "cgns", "busybox", "sleep", "60"])
        .assert_ok()
        .out()
        .to_string();
    let json = env.mdrun(&["inspect", &id]);
    json.assert_ok();
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let rec = if v.is_array() { &v[0] } else { &v };
    let pid = rec["State"]["Pid"]
        .as_i64()
        .unwrap_or_else(|| panic!("no pid: {json}"))
        .to_string();
    assert_ne!(ns(&pid), mine, "the init shares our cgroup namespace");
    env.mdrun(&["rm", "-f", "cgns"]).assert_ok();
    env.assert_clean();
}

#[test]
fn a_terminal_on_stdin_means_it_without_flags() {
    let env = TestEnv::new();
    let line = "\"$MDRUN\" run --rm busybox sh -c 'tty; test -t 0 && echo stdin-tty; test -t 1 && echo stdout-tty'; echo rc=$?";
    let out = Cmd::new("script", &env.dir)
        .args(&["-qfec", line, "/dev/null"])
        .env("MDRUN_CONFIG", &env.config)
        .env("MDRUN", MDRUN)
        .env("TERM", "xterm")
        .run();
    out.assert_ok();
    let text = out.stdout.replace("\r\n", "\n");
    let lines: Vec<&str> = text.lines().map(|l| l.trim_start_matches("^@")).collect();
    assert!(
        lines.iter().any(|l| l.starts_with("/dev/pts/")),
        "no terminal without -t from a terminal:\n{out}"
    );
    for expected in ["stdin-tty", "stdout-tty", "rc=0"] {
        assert!(lines.contains(&expected), "{expected} missing:\n{out}");
    }
    // Not from a terminal: pipes, no pty.
    let out = env.run(&["busybox", "sh", "-c", "tty; true"]);
    assert_eq!(out.out(), "not a tty", "{out}");
    env.assert_clean();
}

/// Without `cgroup_parent`, a container's cgroup nests under the cgroup mdrun runs in, in
/// every hierarchy, and goes with the container.
#[test]
fn the_cgroup_nests_under_mdruns_own_by_default() {
    let env = TestEnv::new();
    let config = env.path("no-parent.toml");
    let text = fs::read_to_string(&env.config).unwrap();
    let text: String = text
        .lines()
        .filter(|l| !l.starts_with("cgroup_parent"))
        .map(|l| format!("{l}\n"))
        .collect();
    fs::write(&config, text).unwrap();
    let mdrun = |args: &[&str]| {
        Cmd::new(MDRUN, &env.dir)
            .args(args)
            .env("MDRUN_CONFIG", &config)
            .run()
    };
    let out = mdrun(&[
        "run",
        "-d",
        "--name",
        "defparent",
        "--memory",
        "64m",
        "busybox",
        "sleep",
        "60",
    ]);
    out.assert_ok();
    let id = out.out().to_string();
    let json = mdrun(&["inspect", "defparent"]);
    json.assert_ok();
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let rec = if v.is_array() { &v[0] } else { &v };
    let pid = rec["State"]["Pid"]
        .as_i64()
        .unwrap_or_else(|| panic!("no pid: {json}"));
    let memory_of = |text: &str| {
        text.lines()
            .find_map(|l| l.split_once(":memory:").map(|(_, p)| p.to_string()))
            .expect("a memory hierarchy (v1 host)")
    };
    let own = memory_of(&fs::read_to_string("/proc/self/cgroup").unwrap());
    let theirs = memory_of(&fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap());
    assert_eq!(
        theirs,
        format!("{}/mdrun-{id}", own.trim_end_matches('/')),
        "the container's memory cgroup is not under ours"
    );
    let dir = std::path::Path::new("/sys/fs/cgroup/memory").join(theirs.trim_start_matches('/'));
    assert_eq!(
        fs::read_to_string(dir.join("memory.limit_in_bytes"))
            .unwrap()
            .trim(),
        (64u64 << 20).to_string()
    );
    mdrun(&["rm", "-f", "defparent"]).assert_ok();
    assert!(!dir.exists(), "{} left behind", dir.display());
    env.assert_clean();
}

/// The host's cgroup mounts: `point fstype per-mount-options superblock-options`.
fn host_cgroup_mounts() -> Vec<String> {
    mounts::mounts()
        .into_iter()
        .filter(|m| m.mount_point.starts_with("/sys/fs/cgroup"))
        .map(|m| {
            format!(
                "{} {} {} {}",
                m.mount_point.display(),
                m.fstype,
                m.options,
                m.super_options
            )
        })
        .collect()
}

/// Issue 15, item 4: the container sees its own cgroup, and only that, read-only at
/// /sys/fs/cgroup (on this hybrid host: a tmpfs with one mount per hierarchy in which it has
/// a cgroup of its own), and the host's cgroup mounts stay read-write.
#[test]
fn the_containers_own_cgroup_is_mounted_read_only_at_sys_fs_cgroup() {
    let env = TestEnv::new();
    let host_before = host_cgroup_mounts();
    assert!(!host_before.is_empty(), "no cgroup mount on this host");

    let out = env.run(&[
        "-m",
        "64m",
        "busybox",
        "cat",
        "/sys/fs/cgroup/memory/memory.limit_in_bytes",
    ]);
    assert_eq!(out.out(), "67108864", "{out}");

    // Writes fail: a limit, a new cgroup, a file in the tmpfs; the limit is unchanged.
    let script = "f=/sys/fs/cgroup/memory/memory.limit_in_bytes
        echo 33554432 > $f && echo wrote-limit
        mkdir /sys/fs/cgroup/memory/child && echo made-cgroup
        mkdir /sys/fs/cgroup/new && echo made-dir
        cat $f";
    let out = env.run(&["-m", "64m", "busybox", "sh", "-c", script]);
    assert_eq!(out.out(), "67108864", "a write went through:\n{out}");
    assert_eq!(
        out.stderr.matches("Read-only file system").count(),
        3,
        "not every write failed with EROFS:\n{out}"
    );

    // Only its own cgroup: no cgroup below it, nothing of the host's tree, and in
    // cgroup.procs its one process (the shell, pid 1, reading them with a builtin).
    let script = "find /sys/fs/cgroup/ -mindepth 2 -type d
        for h in memory pids; do
            while read -r p; do echo $h:$p; done < /sys/fs/cgroup/$h/cgroup.procs
        done";
    let out = env.run(&["busybox", "sh", "-c", script]);
    assert_eq!(out.out(), "memory:1\npids:1", "{out}");

    // Each mount read-only by itself; the hierarchies in which the container is still in
    // our cgroup (blkio, name=systemd, cgroup2 here) are not shown at all.
    let out = env.run(&["busybox", "cat", "/proc/self/mountinfo"]);
    out.assert_ok();
    let inside: Vec<(String, String, String, String)> = out
        .stdout
        .lines()
        .filter_map(|l| {
            let (left, right) = l.split_once(" - ")?;
            let left: Vec<&str> = left.split(' ').collect();
            let right: Vec<&str> = right.split(' ').collect();
            Some((
                left[4].to_string(),
                left[3].to_string(),
                left[5].to_string(),
                right[0].to_string(),
            ))
        })
        .filter(|(point, ..)| point.starts_with("/sys/fs/cgroup"))
        .collect();
    let points: Vec<&str> = inside.iter().map(|m| m.0.as_str()).collect();
    for expected in [
        "/sys/fs/cgroup",
        "/sys/fs/cgroup/memory",
        "/sys/fs/cgroup/pids",
    ] {
        assert!(points.contains(&expected), "{expected} missing: {inside:?}");
    }
    for absent in ["blkio", "systemd", "unified"] {
        let point = format!("/sys/fs/cgroup/{absent}");
        assert!(!points.contains(&point.as_str()), "{point}: {inside:?}");
    }
    for (point, root, options, fstype) in &inside {
        assert!(
            options.split(',').any(|o| o == "ro"),
            "{point} is not read-only: {inside:?}"
        );
        let want = if point == "/sys/fs/cgroup" {
            "tmpfs"
        } else {
            "cgroup"
        };
        assert_eq!(fstype, want, "{point}: {inside:?}");
        assert_eq!(root, "/", "{point} shows more than its root: {inside:?}");
    }

    // The host's superblocks (and mounts) are untouched: still read-write.
    let host_after = host_cgroup_mounts();
    assert_eq!(host_after, host_before);
    for line in &host_after {
        let f: Vec<&str> = line.split(' ').collect();
        assert!(
            f[2].split(',').any(|o| o == "rw") && f[3].split(',').any(|o| o == "rw"),
            "a host cgroup mount is not read-write: {line}"
        );
    }
    env.assert_clean();
}
