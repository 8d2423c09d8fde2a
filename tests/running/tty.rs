//! `-t`: the command gets a terminal of its own. util-linux `script` gives mdrun a real
//! terminal to be started from, as a user's shell would.

use crate::common::*;

/// Runs shell `line` under `script`, in a terminal; `$MDRUN` is the binary.
fn in_terminal(env: &TestEnv, line: &str, input: Option<&str>) -> Out {
    let mut cmd = Cmd::new("script", &env.dir)
        .args(&["-qfec", line, "/dev/null"])
        .env("MDRUN_CONFIG", &env.config)
        .env("MDRUN", MDRUN)
        .env("TERM", "xterm-256color");
    if let Some(input) = input {
        cmd = cmd.stdin(input.as_bytes());
    }
    let out = cmd.run();
    // A terminal ends lines with \r\n.
    Out {
        stdout: out.stdout.replace("\r\n", "\n"),
        ..out
    }
}

#[test]
fn tty_flag_gives_the_command_a_terminal() {
    let env = TestEnv::new();
    let inner = "tty; stty size; echo TERM=$TERM; test -t 0 && echo stdin-tty; test -t 1 && echo stdout-tty; test -t 2 && echo stderr-tty";
    let out = in_terminal(
        &env,
        &format!(
            "stty rows 30 cols 100; \"$MDRUN\" run --rm -t busybox sh -c '{inner}'; echo rc=$?"
        ),
        None,
    );
    out.assert_ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(
        lines
            .first()
            .is_some_and(|l| l.starts_with("/dev/pts/") || *l == "/dev/console"),
        "{out}"
    );
    assert!(
        lines.contains(&"30 100"),
        "the window size did not reach the container:\n{out}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("TERM=") && l.len() > 5),
        "no TERM:\n{out}"
    );
    for expected in ["stdin-tty", "stdout-tty", "stderr-tty", "rc=0"] {
        assert!(lines.contains(&expected), "{expected} missing:\n{out}");
    }
    env.assert_clean();
}

#[test]
fn terminal_settings_are_restored_afterwards() {
    let env = TestEnv::new();
    let out = in_terminal(
        &env,
        "stty -g; \"$MDRUN\" run --rm -t busybox sh -c 'stty raw -echo; true'; stty -g",
        None,
    );
    out.assert_ok();
    let lines: Vec<&str> = out.stdout.lines().filter(|l| !l.is_empty()).collect();
    assert!(lines.len() >= 2, "{out}");
    assert_eq!(
        lines.first(),
        lines.last(),
        "the terminal was left changed:\n{out}"
    );
}

#[test]
fn exit_code_passes_through_with_a_tty() {
    let env = TestEnv::new();
    let out = in_terminal(
        &env,
        "\"$MDRUN\" run --rm -t busybox sh -c 'exit 5'; echo rc=$?",
        None,
    );
    assert!(out.stdout.lines().any(|l| l == "rc=5"), "{out}");
    env.assert_clean();
}

#[test]
fn interactive_tty_forwards_input() {
    let env = TestEnv::new();
    let out = in_terminal(
        &env,
        "\"$MDRUN\" run --rm -it busybox sh; echo rc=$?",
        Some("echo hello-$((6*7))\nexit 7\n"),
    );
    assert!(
        out.stdout.contains("hello-42"),
        "the command did not get its input:\n{out}"
    );
    assert!(out.stdout.lines().any(|l| l == "rc=7"), "{out}");
    env.assert_clean();
}

/// A resize of mdrun's terminal reaches the container's: the kernel sends mdrun SIGWINCH and
/// mdrun sets the new size on the container's pty. mdrun runs on a pty of the test's own, as
/// its controlling terminal; the container prints `stty size` for every line it reads.
#[test]
fn window_resizes_reach_the_container() {
    use std::io::{Read, Write};
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    let env = TestEnv::new();
    let size = |rows: u16, cols: u16| libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    let (mut master, mut slave) = (-1, -1);
    let ws = size(24, 80);
    // SAFETY: openpty(3) writes two descriptors; name and termios are optional (null).
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &ws,
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just returned by openpty and are ours alone.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    let slave_fd = slave.as_raw_fd();
    let mut cmd = Command::new(MDRUN);
    cmd.args([
        "run",
        "--rm",
        "-it",
        "busybox",
        "sh",
        "-c",
        "stty size; while read x; do stty size; done",
    ])
    .current_dir(&env.dir)
    .env("MDRUN_CONFIG", &env.config)
    .env("TERM", "xterm")
    .stdin(Stdio::from(slave.try_clone().unwrap()))
    .stdout(Stdio::from(slave.try_clone().unwrap()))
    .stderr(Stdio::from(slave));
    // SAFETY: between fork and exec: setsid(2) and ioctl(TIOCSCTTY) only, so that the pty is
    // mdrun's controlling terminal and a resize signals mdrun.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setsid() < 0 || libc::ioctl(slave_fd, libc::TIOCSCTTY, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().unwrap();
    let (tx, rx) = mpsc::channel::<String>();
    let mut reader = std::fs::File::from(master.try_clone().unwrap());
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0
                || tx
                    .send(String::from_utf8_lossy(&buf[..n]).into_owned())
                    .is_err()
            {
                break;
            }
        }
    });
    let mut seen = String::new();
    let mut writer = std::fs::File::from(master.try_clone().unwrap());
    let mut wait_for = |want: &str, poke: &mut dyn FnMut()| {
        let deadline = Instant::now() + Duration::from_secs(15);
        while !seen.contains(want) {
            assert!(
                Instant::now() < deadline,
                "no {want:?} from the container; it printed:\n{seen}"
            );
            poke();
            if let Ok(chunk) = rx.recv_timeout(Duration::from_millis(200)) {
                seen.push_str(&chunk);
            }
        }
    };
    wait_for("24 80", &mut || {});
    let ws = size(40, 120);
    // SAFETY: TIOCSWINSZ on our pty master with a valid winsize.
    assert_eq!(
        unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSWINSZ, &ws) },
        0
    );
    // Every line we type makes the container print its size again, until it is the new one.
    wait_for("40 120", &mut || {
        let _ = writer.write_all(b"\n");
    });
    writer.write_all(b"\x04").unwrap(); // ^D: the read loop ends, so does the container
    let status = child.wait().unwrap();
    assert!(
        status.success(),
        "mdrun: {status}; the container printed:\n{seen}"
    );
    env.assert_clean();
}
