//! `--log FILE` and `--log-format text|json`: containerd's shim and podman read the last
//! error from the file as `{"level":"error","msg":...,"time":...}` lines. Errors also go to
//! stderr.

use crate::cli::oci_args::LogFormat;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

struct Sink {
    file: Option<PathBuf>,
    json: bool,
    debug: bool,
}

static SINK: OnceLock<Sink> = OnceLock::new();

pub fn init(file: Option<&Path>, format: LogFormat, debug: bool) {
    let _ = SINK.set(Sink {
        file: file.map(Path::to_path_buf),
        json: format == LogFormat::Json,
        debug,
    });
}

fn now() -> String {
    crate::time::rfc3339(crate::time::unix_now())
}

fn write(level: &str, msg: &str) {
    let Some(sink) = SINK.get() else {
        return;
    };
    let Some(path) = &sink.file else {
        return;
    };
    let line = if sink.json {
        serde_json::json!({"level": level, "msg": msg, "time": now()}).to_string()
    } else {
        format!("time=\"{}\" level={level} msg={:?}", now(), msg)
    };
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = writeln!(f, "{line}");
    }
}

pub fn error(msg: &str) {
    write("error", msg);
    eprintln!("mdrun-oci: {msg}");
}

pub fn warn(msg: &str) {
    write("warning", msg);
    eprintln!("mdrun-oci: warning: {msg}");
}

pub fn debug(msg: &str) {
    if SINK.get().is_some_and(|s| s.debug) {
        write("debug", msg);
    }
}
