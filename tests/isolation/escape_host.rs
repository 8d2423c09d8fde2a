//! The escape and abuse suite, host side: from a default container, writing the kernel's
//! settings, seeing or signalling host processes, reaching a host service on 127.0.0.1,
//! outliving `stop` / `rm -f`, and rewriting the host's mdrun through the `/proc/<pid>/exe`
//! of an `exec` (CVE-2019-5736) all fail, and the host is checked unchanged afterwards.
//! (Memory and fork bombs against --memory / --pids-limit: tests/limits/cgroups.rs.)

use crate::common::*;
use std::ffi::CString;
use std::io::{Error, ErrorKind, Read, Write};
use std::net::TcpListener;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path}: {e}"))
}

#[test]
fn kernel_settings_under_proc_sys_and_sys_cannot_be_written() {
    let env = TestEnv::new();
    // Each write puts back the value that is there: harmless even if it got through.
    let files = [
        "/proc/sys/vm/swappiness",
        "/proc/sys/kernel/printk_ratelimit",
        "/proc/sys/kernel/hostname",
    ];
    let before: Vec<String> = files.iter().map(|f| read(f)).collect();
    let mut script = String::new();
    for f in files {
        script += &format!("v=$(cat {f}); (echo \"$v\" > {f}) 2>/dev/null && echo 'wrote {f}'\n");
    }
    script += "touch /sys/kernel/mdrun-x 2>/dev/null && echo 'wrote /sys'\n";
    script += "(echo h > /proc/sysrq-trigger) 2>/dev/null && echo 'wrote sysrq'\n";
    script += "mkdir /sys/fs/cgroup/mdrun-x 2>/dev/null && echo 'made a cgroup'\n";
    script += "hostname evil 2>/dev/null && echo 'set hostname'\n";
    script += "echo end\n";
    let out = env.run(&["busybox", "sh", "-c", &script]);
    out.assert_ok();
    assert_eq!(out.stdout, "end\n", "{out}");
    let after: Vec<String> = files.iter().map(|f| read(f)).collect();
    assert_eq!(before, after, "a kernel setting of the host changed");
    assert_absent(Path::new("/sys/kernel/mdrun-x"));
    env.assert_clean();
}

#[test]
fn host_processes_can_be_neither_seen_nor_signalled() {
    let env = TestEnv::new();
    let mut sleeper = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .unwrap();
    let pid = sleeper.id();
    let script = format!(
        "ls /proc | grep -c '^[0-9]'; kill -9 {pid} 2>/dev/null && echo killed; kill -9 -1 2>/dev/null; \
         [ -e /proc/{pid} ] && echo visible; echo end"
    );
    let out = env.run(&["busybox", "sh", "-c", &script]);
    let alive = sleeper.try_wait().unwrap().is_none();
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    // `kill -9 -1` kills every process the shell may signal: in its own PID namespace that
    // is only the container's; the shell itself survives it (POSIX: not the caller).
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(
        lines
            .first()
            .and_then(|n| n.parse::<u32>().ok())
            .is_some_and(|n| n <= 3),
        "{out}"
    );
    assert!(
        !lines.contains(&"killed") && !lines.contains(&"visible"),
        "{out}"
    );
    assert!(
        alive,
        "the host's sleep {pid} was killed from the container"
    );
    env.assert_clean();
}

#[test]
fn a_host_service_on_loopback_is_unreachable() {
    let env = TestEnv::new();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let script = format!(
        "echo hello | nc -w 2 127.0.0.1 {port} && echo connected; \
         wget -q -T 2 -O - http://127.0.0.1:{port}/ 2>/dev/null && echo fetched; echo end"
    );
    let out = env.run(&["busybox", "sh", "-c", &script]);
    out.assert_ok();
    assert_eq!(out.stdout.trim_end().lines().last(), Some("end"), "{out}");
    assert!(
        !out.stdout.contains("connected") && !out.stdout.contains("fetched"),
        "{out}"
    );
    match listener.accept() {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        other => panic!("the host's listener on 127.0.0.1:{port} got a connection: {other:?}"),
    }
    env.assert_clean();
}

/// The container's processes as the host sees them: its cgroup in the pids hierarchy.
fn container_pids(env: &TestEnv) -> Vec<i32> {
    let dir = env.container_cgroup("pids");
    let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap();
    procs.lines().filter_map(|l| l.parse().ok()).collect()
}

fn alive(pid: i32) -> bool {
    // A zombie has already exited: count it as gone.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

fn wait_gone(pids: &[i32], within: Duration) -> Vec<i32> {
    let deadline = Instant::now() + within;
    loop {
        let left: Vec<i32> = pids.iter().copied().filter(|p| alive(*p)).collect();
        if left.is_empty() || Instant::now() > deadline {
            return left;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Started detached: PID 1 ignores SIGTERM and has children (one in its own session and
/// process group, as a daemon would) that ignore it too.
fn start_stubborn(env: &TestEnv, name: &str) -> Vec<i32> {
    let script =
        "trap '' TERM; (trap '' TERM; sleep 1000) & setsid sh -c \"trap '' TERM; sleep 1000\" & \
                  while :; do sleep 1; done";
    env.mdrun(&["run", "-d", "--name", name, "busybox", "sh", "-c", script])
        .assert_ok();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let pids = container_pids(env);
        if pids.len() >= 4 || Instant::now() > deadline {
            return pids;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn nothing_keeps_running_after_stop() {
    let env = TestEnv::new();
    env.keep_containers();
    let pids = start_stubborn(&env, "stubborn");
    assert!(
        pids.len() >= 4,
        "expected PID 1, two sleeps and a loop: {pids:?}"
    );
    let start = Instant::now();
    env.mdrun(&["stop", "-t", "1", "stubborn"]).assert_ok();
    assert!(
        start.elapsed() < Duration::from_secs(8),
        "stop -t 1 took {:?}",
        start.elapsed()
    );
    assert_eq!(
        wait_gone(&pids, Duration::from_secs(5)),
        Vec::<i32>::new(),
        "survived stop"
    );
    env.mdrun(&["rm", "stubborn"]).assert_ok();
    env.assert_clean();
}

#[test]
fn nothing_keeps_running_after_rm_force() {
    let env = TestEnv::new();
    let pids = start_stubborn(&env, "forced");
    env.mdrun(&["rm", "-f", "forced"]).assert_ok();
    assert_eq!(
        wait_gone(&pids, Duration::from_secs(5)),
        Vec::<i32>::new(),
        "survived rm -f"
    );
    env.assert_clean();
}

/// The static exe_thief probe (tests/fixtures/exe_thief.rs), built once per test binary
/// with plain rustc into a directory of its own (mounted read-only into the container).
fn exe_thief() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| crate::common::fixture::static_probe("exe_thief"))
}

fn mkfifo(path: &Path) {
    let c = CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: mkfifo(3) with a NUL-terminated path.
    let rc = unsafe { libc::mkfifo(c.as_ptr(), 0o600) };
    assert_eq!(
        rc,
        0,
        "mkfifo {}: {}",
        path.display(),
        Error::last_os_error()
    );
}

const FIFO_WAIT: Duration = Duration::from_secs(60);

/// Everything written to the FIFO `path` by its next writer (until it closes it); panics
/// if nothing comes within a minute, so that a broken probe fails the test, not hangs it.
fn fifo_read(path: &Path) -> String {
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    let deadline = Instant::now() + FIFO_WAIT;
    let mut text = Vec::new();
    loop {
        let mut pfd = libc::pollfd {
            fd: f.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: poll(2) on one pollfd that lives on our stack.
        let n = unsafe { libc::poll(&mut pfd, 1, 100) };
        if n > 0 {
            let mut buf = [0u8; 4096];
            match (&f).read(&mut buf) {
                // EOF once a writer came and went (poll does not report HUP before).
                Ok(0) => return String::from_utf8_lossy(&text).into_owned(),
                Ok(k) => text.extend_from_slice(&buf[..k]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => panic!("read {}: {e}", path.display()),
            }
        }
        assert!(
            Instant::now() < deadline,
            "nothing came through {} within {FIFO_WAIT:?}",
            path.display()
        );
    }
}

/// Write `text` to the FIFO `path` once its reader has opened it (within a minute).
fn fifo_write(path: &Path, text: &str) {
    let deadline = Instant::now() + FIFO_WAIT;
    let mut f = loop {
        match std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)
        {
            Ok(f) => break f,
            // ENXIO: no reader yet.
            Err(e) if e.raw_os_error() == Some(libc::ENXIO) && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10))
            }
            Err(e) => panic!("open {} for writing: {e}", path.display()),
        }
    };
    f.write_all(text.as_bytes()).unwrap();
}

fn sha256(path: &Path) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    let mut file = std::fs::File::open(path).unwrap();
    std::io::copy(&mut file, &mut hasher).unwrap();
    format!("{:x}", hasher.finalize())
}

/// Host pids whose /proc/<pid>/exe is `exe`: the processes that keep it busy (ETXTBSY).
fn running(exe: &Path) -> Vec<i32> {
    let entries = std::fs::read_dir("/proc").unwrap();
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|l| l == exe))
        .collect()
}

/// CVE-2019-5736: the container replaces the program the operator execs with
/// `#!/proc/self/exe`, so the joining process runs its own binary again, inside the
/// container; the container keeps `/proc/<pid>/exe` of it (O_PATH) and, once nothing runs
/// that binary any more, reopens it for writing. The exec here is done by a private copy
/// of mdrun that nothing else runs (the container's supervisor runs another), so that
/// ETXTBSY is not what protects it: what the container reaches must not be that file.
#[test]
fn exec_leaves_no_way_to_the_host_binary() {
    let env = TestEnv::new();
    let bin = env.path("bin");
    std::fs::create_dir(&bin).unwrap();
    let exe = bin.join("mdrun");
    std::fs::copy(MDRUN, &exe).unwrap();
    let before = sha256(&exe);
    let share = env.path("share");
    std::fs::create_dir(&share).unwrap();
    for name in ["ready", "go", "result"] {
        mkfifo(&share.join(name));
    }
    let probe = format!("{}:/probe:ro", exe_thief().display());
    let shared = format!("{}:/share", share.display());
    // mdrun links glibc: a container with a glibc (as most images have) runs it. Here the
    // host's own, read-only.
    env.mdrun(&[
        "run",
        "-d",
        "--name",
        "thief",
        "-v",
        &probe,
        "-v",
        &shared,
        "-v",
        "/lib64:/lib64:ro",
        "-v",
        "/lib/x86_64-linux-gnu:/lib/x86_64-linux-gnu:ro",
        "busybox",
        "/probe/exe_thief",
    ])
    .assert_ok();
    assert_eq!(fifo_read(&share.join("ready")), "ready\n");
    // The operator execs the container's program: /evil, now `#!/proc/self/exe`.
    let exec = Cmd::new(&exe, &env.dir)
        .args(&["exec", "thief", "/evil"])
        .env("MDRUN_CONFIG", &env.config)
        .run();
    // mdrun, run again inside by the kernel, failed on the config the probe fed it.
    exec.assert_code(125);
    assert_eq!(
        running(&exe),
        Vec::<i32>::new(),
        "{} still runs",
        exe.display()
    );
    fifo_write(&share.join("go"), "go\n");
    let result = fifo_read(&share.join("result"));
    env.mdrun(&["rm", "-f", "thief"]).assert_ok();
    let field = |name: &str| {
        result
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
            .unwrap_or_else(|| panic!("no {name} in the probe's report:\n{result}"))
            .to_string()
    };
    assert_eq!(
        sha256(&exe),
        before,
        "the container rewrote {} through /proc/<pid>/exe:\n{result}",
        exe.display()
    );
    // The attack did run: the container held the exe of the process that joined it.
    assert_eq!(field("held"), "0", "{result}");
    // ... and what it held was not the host's file: no write, or only to a sealed memfd.
    let reached_memfd = field("held_link").starts_with("/memfd:");
    assert!(field("open_write") != "0" || reached_memfd, "{result}");
    if field("open_write") == "0" {
        assert_ne!(field("write"), "0", "{result}");
    }
    env.assert_clean();
}
