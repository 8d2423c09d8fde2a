//! The file driver: `<container dir>/container.log`, one JSON object per line:
//! `{"time":1795457263.832752,"stream":"stdout","message":"hello"}` (time in Unix seconds;
//! `partial: true` marks a line cut at 16 KiB or left without a newline at the end).

use super::lines::{Line, Splitter};
use super::{Context, LogError, Sink, Stream};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

pub const FILE_NAME: &str = "container.log";

#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct Record {
    pub time: f64,
    pub stream: Stream,
    pub message: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
}

pub fn path(dir: &Path) -> PathBuf {
    dir.join(FILE_NAME)
}

/// Appends records as the container writes, one write(2) per chunk of output. The first
/// write that fails (a full disk) is reported once, on stderr, and ends the logging: what
/// it wrote of its chunk is cut off again (the file ends with a whole record, for `mdrun
/// logs`), and later output is not logged (the terminal still gets it). It never changes
/// the container's exit status.
pub struct FileSink {
    path: PathBuf,
    /// None once a write failed.
    file: Option<File>,
    /// The file's length up to its last whole record.
    len: u64,
    /// Records of the chunk being logged.
    buf: Vec<u8>,
    stdout: Splitter,
    stderr: Splitter,
}

pub fn open(ctx: &Context) -> Result<FileSink, LogError> {
    let path = path(&ctx.dir);
    let io = |step| {
        let path = path.clone();
        move |source| LogError::Io { step, path, source }
    };
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(io("open"))?;
    // A container started again appends to what its earlier runs logged.
    let len = file.metadata().map_err(io("stat"))?.len();
    Ok(FileSink {
        path,
        file: Some(file),
        len,
        buf: Vec::with_capacity(64 * 1024),
        stdout: Splitter::default(),
        stderr: Splitter::default(),
    })
}

fn append(buf: &mut Vec<u8>, stream: Stream, line: Line<'_>) {
    let rec = Record {
        time: crate::state::now(),
        stream,
        message: String::from_utf8_lossy(line.text).into_owned(),
        partial: line.partial,
    };
    // Serializing into memory fails only for types serde_json cannot represent.
    if serde_json::to_writer(&mut *buf, &rec).is_ok() {
        buf.push(b'\n');
    }
}

impl FileSink {
    /// Write what `buf` holds. `mdrun logs -f` follows the file: what the container wrote
    /// should be there now.
    fn write_out(&mut self) {
        let Some(file) = &mut self.file else {
            self.buf.clear();
            return;
        };
        if self.buf.is_empty() {
            return;
        }
        match file.write_all(&self.buf) {
            Ok(()) => self.len += self.buf.len() as u64,
            Err(e) => {
                // Cutting off a torn record frees blocks: it cannot fail for want of space.
                let _ = file.set_len(self.len);
                self.file = None;
                eprintln!(
                    "mdrun: log {}: {e}; further output is not logged",
                    self.path.display()
                );
            }
        }
        self.buf.clear();
    }
}

impl Sink for FileSink {
    fn write(&mut self, stream: Stream, data: &[u8]) {
        if self.file.is_none() {
            return;
        }
        let buf = &mut self.buf;
        let splitter = match stream {
            Stream::Stdout => &mut self.stdout,
            Stream::Stderr => &mut self.stderr,
        };
        splitter.push(data, &mut |l| append(buf, stream, l));
        self.write_out();
    }

    fn close(&mut self) {
        let buf = &mut self.buf;
        self.stdout.flush(&mut |l| append(buf, Stream::Stdout, l));
        self.stderr.flush(&mut |l| append(buf, Stream::Stderr, l));
        self.write_out();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_become_json_records_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = Context {
            id: "a".repeat(64),
            name: "n".into(),
            unit: None,
            pid: 1,
            dir: dir.path().into(),
        };
        let mut sink = open(&ctx).unwrap();
        sink.write(Stream::Stdout, b"one\ntw");
        sink.write(Stream::Stderr, b"oops\n");
        sink.write(Stream::Stdout, b"o\nthree");
        sink.close();
        let text = std::fs::read_to_string(path(dir.path())).unwrap();
        let recs: Vec<Record> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let got: Vec<(Stream, &str, bool)> = recs
            .iter()
            .map(|r| (r.stream, r.message.as_str(), r.partial))
            .collect();
        assert_eq!(
            got,
            vec![
                (Stream::Stdout, "one", false),
                (Stream::Stderr, "oops", false),
                (Stream::Stdout, "two", false),
                (Stream::Stdout, "three", true),
            ]
        );
        assert!(recs.windows(2).all(|w| w[0].time <= w[1].time));
    }

    #[test]
    fn a_failed_write_ends_the_logging_and_leaves_whole_records() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = Context {
            id: "a".repeat(64),
            name: "n".into(),
            unit: None,
            pid: 1,
            dir: dir.path().into(),
        };
        let mut sink = open(&ctx).unwrap();
        sink.write(Stream::Stdout, b"kept\n");
        // From now on every write fails with ENOSPC.
        sink.file = Some(
            std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .unwrap(),
        );
        sink.write(Stream::Stdout, b"lost\n");
        assert!(sink.file.is_none(), "logging goes on after a failed write");
        sink.write(Stream::Stdout, b"not tried\n");
        sink.close();
        assert!(sink.buf.is_empty());
        let text = std::fs::read_to_string(path(dir.path())).unwrap();
        let rec: Record = serde_json::from_str(text.trim_end()).unwrap();
        assert_eq!((rec.message.as_str(), text.lines().count()), ("kept", 1));
    }
}
