//! Running the mdrun binary with a deadline: a hung container fails its own test, with
//! what it printed so far, instead of hanging the whole suite.

use std::ffi::OsString;
use std::fmt;
use std::io::{Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

/// How long one mdrun may take unless the test says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// What one mdrun invocation did.
#[derive(Debug, Clone)]
pub struct Out {
    pub args: Vec<String>,
    /// The exit status; 128+N when mdrun itself was killed by signal N.
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl fmt::Display for Out {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "mdrun {:?} exited {}\n--- stdout ---\n{}\n--- stderr ---\n{}--------------",
            self.args, self.code, self.stdout, self.stderr
        )
    }
}

impl Out {
    /// Panics (showing everything mdrun printed) unless it exited `code`.
    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Out {
        assert_eq!(self.code, code, "expected exit {code}, got:\n{self}");
        self
    }

    #[track_caller]
    pub fn assert_ok(&self) -> &Out {
        self.assert_code(0)
    }

    /// mdrun's own failure: exit `code` and exactly one line on stderr, starting `mdrun: `.
    #[track_caller]
    pub fn assert_one_line_error(&self, code: i32) -> &Out {
        self.assert_code(code);
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert!(
            lines.len() == 1 && lines[0].starts_with("mdrun: ") && self.stderr.ends_with('\n'),
            "expected exactly one stderr line starting 'mdrun: ', got:\n{self}"
        );
        self
    }

    /// A usage or runtime error of mdrun itself: 125 and one line.
    #[track_caller]
    pub fn assert_mdrun_error(&self) -> &Out {
        self.assert_one_line_error(125)
    }

    /// stdout with surrounding whitespace removed.
    pub fn out(&self) -> &str {
        self.stdout.trim()
    }
}

/// One mdrun invocation being put together: `env.cmd(&[..]).stdin(..).run()`.
pub struct Cmd {
    pub(crate) program: PathBuf,
    pub(crate) args: Vec<OsString>,
    pub(crate) envs: Vec<(OsString, OsString)>,
    pub(crate) cwd: PathBuf,
    pub(crate) stdin: Option<Vec<u8>>,
    pub(crate) timeout: Duration,
}

impl Cmd {
    pub fn new(program: impl Into<PathBuf>, cwd: impl Into<PathBuf>) -> Cmd {
        Cmd {
            program: program.into(),
            args: Vec::new(),
            envs: Vec::new(),
            cwd: cwd.into(),
            stdin: None,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    pub fn args<S: Into<OsString> + Clone>(mut self, args: &[S]) -> Cmd {
        self.args.extend(args.iter().cloned().map(Into::into));
        self
    }

    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Cmd {
        self.envs.push((key.into(), value.into()));
        self
    }

    /// Feed these bytes to stdin, then close it (without this, stdin is /dev/null).
    pub fn stdin(mut self, input: impl Into<Vec<u8>>) -> Cmd {
        self.stdin = Some(input.into());
        self
    }

    pub fn timeout(mut self, timeout: Duration) -> Cmd {
        self.timeout = timeout;
        self
    }

    pub fn run(self) -> Out {
        self.spawn().wait()
    }

    /// Start it and return at once, for tests that look at the container while it runs.
    pub fn spawn(self) -> Running {
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .current_dir(&self.cwd)
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in &self.envs {
            command.env(k, v);
        }
        let args: Vec<String> = self
            .args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {} {args:?}: {e}", self.program.display()));
        if let (Some(input), Some(mut pipe)) = (self.stdin, child.stdin.take()) {
            // A thread, so that a container that does not read its stdin cannot block us.
            std::thread::spawn(move || {
                let _ = pipe.write_all(&input);
            });
        }
        let stdout = reader(child.stdout.take().expect("piped stdout"));
        let stderr = reader(child.stderr.take().expect("piped stderr"));
        Running {
            child,
            args,
            stdout,
            stderr,
            deadline: Instant::now() + self.timeout,
            timeout: self.timeout,
            status: None,
        }
    }
}

fn reader(mut pipe: impl Read + Send + 'static) -> Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe.read_to_end(&mut buf);
        let _ = tx.send(buf);
    });
    rx
}

/// A started mdrun. Dropping it unwaited kills it (it is our own child), so a failing
/// assertion in the middle of a test does not leave it running.
pub struct Running {
    child: Child,
    args: Vec<String>,
    stdout: Receiver<Vec<u8>>,
    stderr: Receiver<Vec<u8>>,
    deadline: Instant,
    timeout: Duration,
    status: Option<ExitStatus>,
}

impl Running {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Has mdrun exited yet?
    pub fn exited(&mut self) -> bool {
        if self.status.is_none() {
            self.status = self.child.try_wait().expect("waitpid mdrun");
        }
        self.status.is_some()
    }

    pub fn wait(mut self) -> Out {
        while !self.exited() {
            if Instant::now() > self.deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "mdrun {:?} still running after {:?}: killed it",
                    self.args, self.timeout
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let status = self.status.expect("exited");
        let code = status
            .code()
            .unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
        // mdrun is gone; a pipe can still be held open by something it left behind.
        let grace = self
            .deadline
            .saturating_duration_since(Instant::now())
            .min(Duration::from_secs(10));
        let collect = |rx: &Receiver<Vec<u8>>, name: &str| {
            match rx.recv_timeout(grace) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(_) => panic!(
                "mdrun {:?} exited {code} but its {name} stayed open: something it started outlived it",
                self.args
            ),
        }
        };
        let stdout = collect(&self.stdout, "stdout");
        let stderr = collect(&self.stderr, "stderr");
        Out {
            args: std::mem::take(&mut self.args),
            code,
            stdout,
            stderr,
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if !self.exited() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Run any command (not only mdrun) with a deadline, its output captured; past the deadline
/// an error (the command, the time, what it printed so far) instead of a hung suite. The command runs in a process group of its own, killed as a whole at the
/// deadline. Once it has exited, a pipe something it started still holds open is waited for
/// 10 s at most: its output up to then is returned.
pub fn try_output_within(
    command: &mut Command,
    timeout: Duration,
) -> Result<std::process::Output, String> {
    use std::os::unix::process::CommandExt;
    use std::sync::{Arc, Mutex};
    let shown = format!("{command:?}");
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {shown}: {e}"));
    let collect = |pipe: Box<dyn Read + Send>| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let (done_tx, done) = mpsc::channel::<()>();
        let b = buf.clone();
        std::thread::spawn(move || {
            let mut pipe = pipe;
            let mut chunk = [0u8; 8192];
            while let Ok(n) = pipe.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                b.lock().unwrap().extend_from_slice(&chunk[..n]);
            }
            let _ = done_tx.send(());
        });
        (buf, done)
    };
    let (out, out_done) = collect(Box::new(child.stdout.take().expect("piped stdout")));
    let (err, err_done) = collect(Box::new(child.stderr.take().expect("piped stderr")));
    let text = |b: &Arc<Mutex<Vec<u8>>>| String::from_utf8_lossy(&b.lock().unwrap()).into_owned();
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().expect("waitpid") {
            break status;
        }
        if Instant::now() > deadline {
            // SAFETY: kill(2) of the process group we made for this child; no memory involved.
            unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
            // Reaped if it can be: a process in a frozen cgroup cannot die until thawed, and
            // must not hang the test in turn.
            let reap = Instant::now() + Duration::from_secs(10);
            while child.try_wait().ok().flatten().is_none() && Instant::now() < reap {
                std::thread::sleep(Duration::from_millis(20));
            }
            return Err(format!(
                "{shown} still running after {timeout:?}: killed it\n--- stdout ---\n{}\n--- stderr ---\n{}",
                text(&out),
                text(&err)
            ));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let grace = Instant::now() + Duration::from_secs(10);
    for done in [&out_done, &err_done] {
        let left = grace.saturating_duration_since(Instant::now());
        if done.recv_timeout(left).is_err() {
            eprintln!("{shown}: exited, but something it started holds its output open");
        }
    }
    let stdout = out.lock().unwrap().clone();
    let stderr = err.lock().unwrap().clone();
    Ok(std::process::Output {
        status,
        stdout,
        stderr,
    })
}
