//! Reading a container's logs back for `mdrun logs`: from its file, or from journald
//! (through `journalctl -o json`, which is the journal's stable reading interface).

use super::{file, LogDriver, LogError, Stream};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Keep printing new lines until the container stops.
    pub follow: bool,
    /// Only the last N lines.
    pub tail: Option<usize>,
    /// Only lines logged at or after this Unix time.
    pub since: Option<f64>,
}

/// One line of output, as logged.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Unix time in seconds.
    pub time: f64,
    pub stream: Stream,
    pub message: String,
    /// Not a whole line: print it without a newline.
    pub partial: bool,
}

impl Entry {
    /// The line as `mdrun logs` prints it, with docker's `--timestamps` prefix.
    pub fn format(&self, timestamps: bool) -> String {
        let mut s = String::new();
        if timestamps {
            s += &crate::time::rfc3339(self.time);
            s.push(' ');
        }
        s += &self.message;
        if !self.partial {
            s.push('\n');
        }
        s
    }
}

/// Where a container's logs are: its driver, its id and its data directory.
pub struct Source<'a> {
    pub driver: LogDriver,
    pub id: &'a str,
    pub dir: &'a Path,
}

/// Hand every entry that matches `opts` to `out`, oldest first. With `follow`, keep going
/// until `running()` turns false and everything logged before has been handed out. `out`
/// returning false stops the read (the reader went away).
pub fn read(
    src: &Source<'_>,
    opts: &ReadOptions,
    running: &dyn Fn() -> bool,
    out: &mut dyn FnMut(&Entry) -> bool,
) -> Result<(), LogError> {
    match src.driver {
        LogDriver::File => read_file(&file::path(src.dir), opts, running, out),
        // The journald driver's local copy is complete (journald may rate-limit): read it
        // when it is there, the journal otherwise.
        LogDriver::Journald if file::path(src.dir).exists() => {
            read_file(&file::path(src.dir), opts, running, out)
        }
        LogDriver::Journald => read_journal(src.id, opts, running, out),
        LogDriver::None => Err(LogError::NoLogs {
            id: crate::ids::short(src.id).to_string(),
        }),
    }
}

const POLL: Duration = Duration::from_millis(100);

fn read_file(
    path: &Path,
    opts: &ReadOptions,
    running: &dyn Fn() -> bool,
    out: &mut dyn FnMut(&Entry) -> bool,
) -> Result<(), LogError> {
    let io = |step: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source| LogError::Io { step, path, source }
    };
    let mut f = match std::fs::File::open(path) {
        Ok(f) => f,
        // Nothing logged yet (or ever).
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !opts.follow => return Ok(()),
        Err(e) => return Err(io("open", path)(e)),
    };
    let mut text = String::new();
    f.read_to_string(&mut text).map_err(io("read", path))?;
    // Only complete records: the writer may be in the middle of one.
    let complete = text.rfind('\n').map_or(0, |i| i + 1);
    let mut entries: Vec<Entry> = parse_file_records(&text[..complete], path)?
        .into_iter()
        .filter(|e| opts.since.is_none_or(|s| e.time >= s))
        .collect();
    if let Some(n) = opts.tail {
        entries.drain(..entries.len().saturating_sub(n));
    }
    for e in &entries {
        if !out(e) {
            return Ok(());
        }
    }
    if !opts.follow {
        return Ok(());
    }
    let mut pos = complete as u64;
    let mut rest = String::new();
    loop {
        // Read the running state before the file: lines logged before the end are then
        // in the file by the time we read it.
        let still = running();
        f.seek(SeekFrom::Start(pos)).map_err(io("seek", path))?;
        let mut more = String::new();
        let n = f.read_to_string(&mut more).map_err(io("read", path))?;
        pos += n as u64;
        rest.push_str(&more);
        if let Some(i) = rest.rfind('\n') {
            let done: String = rest.drain(..=i).collect();
            for e in parse_file_records(&done, path)? {
                if !out(&e) {
                    return Ok(());
                }
            }
        }
        if !still {
            return Ok(());
        }
        if n == 0 {
            std::thread::sleep(POLL);
        }
    }
}

fn parse_file_records(text: &str, path: &Path) -> Result<Vec<Entry>, LogError> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            serde_json::from_str::<file::Record>(l)
                .map(|r| Entry {
                    time: r.time,
                    stream: r.stream,
                    message: r.message,
                    partial: r.partial,
                })
                .map_err(|source| LogError::Parse {
                    path: path.to_path_buf(),
                    source,
                })
        })
        .collect()
}

fn journalctl(id: &str) -> Command {
    let mut c = Command::new("journalctl");
    c.args([
        "--no-pager",
        "-q",
        "-o",
        "json",
        "--output-fields=MESSAGE,PRIORITY,CONTAINER_PARTIAL_MESSAGE",
    ])
    .arg(format!("CONTAINER_ID_FULL={id}"))
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::inherit());
    c
}

fn read_journal(
    id: &str,
    opts: &ReadOptions,
    running: &dyn Fn() -> bool,
    out: &mut dyn FnMut(&Entry) -> bool,
) -> Result<(), LogError> {
    let mut first = journalctl(id);
    if let Some(n) = opts.tail {
        first.arg(format!("--lines={n}"));
    }
    if let Some(s) = opts.since {
        first.arg(format!("--since=@{s:.6}"));
    }
    let mut cursor = None;
    if !run_journalctl(first, &mut cursor, out)? || !opts.follow {
        return Ok(());
    }
    // Follow by polling with --after-cursor: every entry exactly once, and a clean end
    // once the container has stopped (journalctl -f never ends by itself).
    loop {
        let still = running();
        let mut next = journalctl(id);
        match &cursor {
            Some(c) => next.arg(format!("--after-cursor={c}")),
            None => next.arg(format!("--since=@{:.6}", opts.since.unwrap_or(0.0))),
        };
        let before = cursor.clone();
        if !run_journalctl(next, &mut cursor, out)? || !still {
            return Ok(());
        }
        if cursor == before {
            std::thread::sleep(POLL);
        }
    }
}

/// Run one journalctl, handing out its entries; false when `out` asked to stop.
fn run_journalctl(
    mut cmd: Command,
    cursor: &mut Option<String>,
    out: &mut dyn FnMut(&Entry) -> bool,
) -> Result<bool, LogError> {
    let mut child = cmd.spawn().map_err(|source| LogError::Io {
        step: "run",
        path: PathBuf::from("journalctl"),
        source,
    })?;
    let stdout = child.stdout.take().expect("piped");
    let mut keep_going = true;
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        let Some((entry, c)) = parse_journal_json(&line) else {
            continue;
        };
        *cursor = Some(c);
        if !out(&entry) {
            keep_going = false;
            let _ = child.kill();
            break;
        }
    }
    let _ = child.wait();
    Ok(keep_going)
}

/// One `journalctl -o json` line: the entry and its cursor. MESSAGE is an array of bytes
/// when it is not valid UTF-8.
pub fn parse_journal_json(line: &str) -> Option<(Entry, String)> {
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    let cursor = v.get("__CURSOR")?.as_str()?.to_string();
    let usec: f64 = v.get("__REALTIME_TIMESTAMP")?.as_str()?.parse().ok()?;
    let message = match v.get("MESSAGE")? {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(bytes) => {
            let b: Vec<u8> = bytes
                .iter()
                .filter_map(|x| x.as_u64())
                .map(|x| x as u8)
                .collect();
            String::from_utf8_lossy(&b).into_owned()
        }
        _ => String::new(),
    };
    let stream = match v.get("PRIORITY").and_then(|p| p.as_str()) {
        Some("3") => Stream::Stderr,
        _ => Stream::Stdout,
    };
    let partial = v.get("CONTAINER_PARTIAL_MESSAGE").and_then(|p| p.as_str()) == Some("true");
    Some((
        Entry {
            time: usec / 1e6,
            stream,
            message,
            partial,
        },
        cursor,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::{Context, Sink};

    fn ctx(dir: &Path) -> Context {
        Context {
            id: "b".repeat(64),
            name: "n".into(),
            unit: None,
            pid: 1,
            dir: dir.into(),
        }
    }

    fn collect(dir: &Path, opts: &ReadOptions) -> Vec<String> {
        let src = Source {
            driver: LogDriver::File,
            id: &"b".repeat(64),
            dir,
        };
        let mut got = Vec::new();
        read(&src, opts, &|| false, &mut |e| {
            got.push(e.message.clone());
            true
        })
        .unwrap();
        got
    }

    #[test]
    fn file_logs_read_back_with_tail_and_since() {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = file::open(&ctx(dir.path())).unwrap();
        sink.write(Stream::Stdout, b"1\n2\n");
        let mid = crate::state::now();
        std::thread::sleep(Duration::from_millis(20));
        sink.write(Stream::Stderr, b"3\n4\n");
        sink.close();
        assert_eq!(
            collect(dir.path(), &ReadOptions::default()),
            ["1", "2", "3", "4"]
        );
        assert_eq!(
            collect(
                dir.path(),
                &ReadOptions {
                    tail: Some(3),
                    ..Default::default()
                }
            ),
            ["2", "3", "4"]
        );
        assert_eq!(
            collect(
                dir.path(),
                &ReadOptions {
                    since: Some(mid),
                    ..Default::default()
                }
            ),
            ["3", "4"]
        );
    }

    #[test]
    fn following_a_file_sees_lines_written_later_and_ends_with_the_container() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        let writer = std::thread::spawn(move || {
            let mut sink = file::open(&ctx(&path)).unwrap();
            for i in 0..5 {
                sink.write(Stream::Stdout, format!("{i}\n").as_bytes());
                std::thread::sleep(Duration::from_millis(30));
            }
            sink.close();
        });
        let writer_done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = writer_done.clone();
        let watcher = std::thread::spawn(move || {
            writer.join().unwrap();
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        let src = Source {
            driver: LogDriver::File,
            id: "x",
            dir: dir.path(),
        };
        let mut got = Vec::new();
        let opts = ReadOptions {
            follow: true,
            ..Default::default()
        };
        std::thread::sleep(Duration::from_millis(10));
        read(
            &src,
            &opts,
            &|| !writer_done.load(std::sync::atomic::Ordering::SeqCst),
            &mut |e| {
                got.push(e.message.clone());
                true
            },
        )
        .unwrap();
        watcher.join().unwrap();
        assert_eq!(got, ["0", "1", "2", "3", "4"]);
    }

    #[test]
    fn journal_json_lines_parse() {
        let line = r#"{"__CURSOR":"s=1;i=2","__REALTIME_TIMESTAMP":"1795457263832752","MESSAGE":"hi","PRIORITY":"3"}"#;
        let (e, c) = parse_journal_json(line).unwrap();
        assert_eq!(c, "s=1;i=2");
        assert_eq!(e.message, "hi");
        assert_eq!(e.stream, Stream::Stderr);
        assert!((e.time - 1_795_457_263.832752).abs() < 1e-6);
        let bin =
            r#"{"__CURSOR":"c","__REALTIME_TIMESTAMP":"1","MESSAGE":[104,255],"PRIORITY":"6"}"#;
        assert_eq!(parse_journal_json(bin).unwrap().0.message, "h\u{fffd}");
        assert!(!parse_journal_json(bin).unwrap().0.partial);
    }

    #[test]
    fn timestamps_prefix_lines() {
        let e = Entry {
            time: 0.0,
            stream: Stream::Stdout,
            message: "x".into(),
            partial: false,
        };
        assert_eq!(e.format(true), "1970-01-01T00:00:00.000000000Z x\n");
        assert_eq!(e.format(false), "x\n");
    }
}
