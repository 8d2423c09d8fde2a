//! The file driver: `<container dir>/container.log`, one JSON object per line:
//! `{"time":1795457263.832752,"stream":"stdout","message":"hello"}` (time in Unix seconds;
//! `partial: true` marks a line cut at 16 KiB or left without a newline at the end).

use super::lines::{Line, Splitter};
use super::{Context, LogError, Sink, Stream};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
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

pub struct FileSink {
    path: PathBuf,
    out: BufWriter<File>,
    stdout: Splitter,
    stderr: Splitter,
    error: Option<std::io::Error>,
}

pub fn open(ctx: &Context) -> Result<FileSink, LogError> {
    let path = path(&ctx.dir);
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|source| LogError::Io {
            step: "open",
            path: path.clone(),
            source,
        })?;
    Ok(FileSink {
        path,
        out: BufWriter::with_capacity(64 * 1024, file),
        stdout: Splitter::default(),
        stderr: Splitter::default(),
        error: None,
    })
}

fn append(
    out: &mut BufWriter<File>,
    error: &mut Option<std::io::Error>,
    stream: Stream,
    line: Line<'_>,
) {
    let rec = Record {
        time: crate::state::now(),
        stream,
        message: String::from_utf8_lossy(line.text).into_owned(),
        partial: line.partial,
    };
    let result = serde_json::to_writer(&mut *out, &rec)
        .map_err(std::io::Error::from)
        .and_then(|()| out.write_all(b"\n"));
    if let Err(e) = result {
        error.get_or_insert(e);
    }
}

impl Sink for FileSink {
    fn write(&mut self, stream: Stream, data: &[u8]) {
        let (out, error) = (&mut self.out, &mut self.error);
        let splitter = match stream {
            Stream::Stdout => &mut self.stdout,
            Stream::Stderr => &mut self.stderr,
        };
        splitter.push(data, &mut |l| append(out, error, stream, l));
        // `mdrun logs -f` follows the file: what the container wrote should be there now.
        if let Err(e) = out.flush() {
            error.get_or_insert(e);
        }
    }

    fn close(&mut self) {
        let (out, error) = (&mut self.out, &mut self.error);
        self.stdout
            .flush(&mut |l| append(out, error, Stream::Stdout, l));
        self.stderr
            .flush(&mut |l| append(out, error, Stream::Stderr, l));
        if let Err(e) = out.flush() {
            error.get_or_insert(e);
        }
        if let Some(e) = self.error.take() {
            eprintln!("mdrun: write {}: {e}", self.path.display());
        }
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
}
