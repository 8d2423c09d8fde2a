//! What a pull shows: per layer, as docker draws it on a terminal
//! (`a1b2c3d4e5f6: Downloading [====>     ] 12.3MB/40.1MB`, then `Pull complete`), one
//! plain line per layer otherwise, nothing but the image's name with `-q`.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};

pub enum Progress {
    Quiet,
    /// One line per event, on stdout or stderr.
    Lines {
        stderr: bool,
    },
    Bars(MultiProgress),
}

impl Progress {
    /// `stderr`: where a pull inside `run` reports (stdout is the container's).
    pub fn new(quiet: bool, stderr: bool) -> Progress {
        let terminal = match stderr {
            true => std::io::stderr().is_terminal(),
            false => std::io::stdout().is_terminal(),
        };
        match (quiet, terminal) {
            (true, _) => Progress::Quiet,
            (false, false) => Progress::Lines { stderr },
            (false, true) => Progress::Bars(MultiProgress::with_draw_target(match stderr {
                true => ProgressDrawTarget::stderr(),
                false => ProgressDrawTarget::stdout(),
            })),
        }
    }

    /// A line of its own (`Digest: ...`, `Status: ...`).
    pub fn line(&self, text: &str) {
        match self {
            Progress::Quiet => {}
            Progress::Lines { stderr: true } => eprintln!("{text}"),
            Progress::Lines { stderr: false } => {
                let _ = writeln!(std::io::stdout().lock(), "{text}");
            }
            Progress::Bars(m) => {
                let _ = m.println(text);
            }
        }
    }

    /// The layer with this digest, `size` bytes compressed.
    pub(crate) fn layer(&self, digest: &str, size: u64) -> Layer {
        let short = crate::image::sha256_hex(digest)
            .map(|h| h[..12].to_string())
            .unwrap_or_else(|| digest.to_string());
        let bar = match self {
            Progress::Bars(m) => {
                let bar = m.add(ProgressBar::new(size));
                bar.set_style(
                    ProgressStyle::with_template(
                        "{prefix}: {msg} [{bar:50}] {decimal_bytes}/{decimal_total_bytes}",
                    )
                    .expect("a valid template")
                    .progress_chars("=> "),
                );
                bar.set_prefix(short.clone());
                bar.set_message("Waiting");
                Some(bar)
            }
            _ => None,
        };
        Layer {
            short,
            bar,
            lines: match self {
                Progress::Lines { stderr } => Some(*stderr),
                _ => None,
            },
        }
    }
}

/// One layer's line or bar.
pub(crate) struct Layer {
    short: String,
    bar: Option<ProgressBar>,
    /// Plain lines, on stderr (true) or stdout.
    lines: Option<bool>,
}

impl Layer {
    pub(crate) fn say(&self, status: &str) {
        match (&self.bar, self.lines) {
            (Some(bar), _) => {
                bar.set_style(ProgressStyle::with_template("{prefix}: {msg}").expect("template"));
                bar.finish_with_message(status.to_string());
            }
            (None, Some(true)) => eprintln!("{}: {status}", self.short),
            (None, Some(false)) => {
                let _ = writeln!(std::io::stdout().lock(), "{}: {status}", self.short);
            }
            (None, None) => {}
        }
    }

    pub(crate) fn exists(&self) {
        self.say("Already exists");
    }

    pub(crate) fn done(&self) {
        self.say("Pull complete");
    }

    pub(crate) fn failed(&self) {
        if let Some(bar) = &self.bar {
            bar.abandon_with_message("Failed");
        }
    }

    /// Counts bytes as they arrive (a bar on a terminal; nothing otherwise).
    pub(crate) fn counter(&self) -> Box<dyn Fn(u64) + Send> {
        self.counter_as("Downloading")
    }

    /// [`Layer::counter`], the bar saying `doing` (`Pushing`).
    pub(crate) fn counter_as(&self, doing: &'static str) -> Box<dyn Fn(u64) + Send> {
        match &self.bar {
            Some(bar) => {
                let bar = bar.clone();
                bar.set_message(doing);
                Box::new(move |n| bar.inc(n))
            }
            None => Box::new(|_| {}),
        }
    }
}
