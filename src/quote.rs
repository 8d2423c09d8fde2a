//! Values users give (a flag's argument, a TOML value or key, an image name, a tar entry's
//! name) as error messages show them: at most [`MAX_CHARS`] characters, so that a 10 MB
//! value makes a short line on stderr, not a 10 MB one. `main` caps whole messages as a
//! last resort ([`cap`]).

use std::borrow::Cow;
use std::ffi::OsStr;
use std::fmt;

/// How much of a value a message quotes.
pub const MAX_CHARS: usize = 100;

/// How long a whole message may be, as a last resort: far above any message mdrun makes
/// itself (two store paths and some words), far below what a library might echo back.
pub const MAX_MESSAGE_CHARS: usize = 2048;

/// A value in quotes, escaped as `{:?}` does, cut after [`MAX_CHARS`] characters:
/// `"aaaa..."... (10485760 bytes)`.
pub struct Quoted<'a>(Cow<'a, str>);

/// A value without quotes (`--cpus 4: ...`), cut the same way.
pub struct Short<'a>(Cow<'a, str>);

pub fn quoted<S: AsRef<OsStr> + ?Sized>(value: &S) -> Quoted<'_> {
    Quoted(value.as_ref().to_string_lossy())
}

pub fn short<S: AsRef<OsStr> + ?Sized>(value: &S) -> Short<'_> {
    Short(value.as_ref().to_string_lossy())
}

/// Where `s` is cut: None when it is short enough to show whole.
fn cut_at(s: &str, max: usize) -> Option<usize> {
    s.char_indices().nth(max).map(|(at, _)| at)
}

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match cut_at(&self.0, MAX_CHARS) {
            None => write!(f, "{:?}", self.0),
            Some(at) => write!(f, "{:?}... ({} bytes)", &self.0[..at], self.0.len()),
        }
    }
}

impl fmt::Display for Short<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match cut_at(&self.0, MAX_CHARS) {
            None => f.write_str(&self.0),
            Some(at) => write!(f, "{}... ({} bytes)", &self.0[..at], self.0.len()),
        }
    }
}

/// A whole message cut after [`MAX_MESSAGE_CHARS`] characters.
pub fn cap(message: &str) -> Cow<'_, str> {
    match cut_at(message, MAX_MESSAGE_CHARS) {
        None => Cow::Borrowed(message),
        Some(at) => Cow::Owned(format!(
            "{}... (cut: {} bytes in all)",
            &message[..at],
            message.len()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn short_values_are_quoted_whole_as_debug_does() {
        assert_eq!(quoted("it's \"x\"\n").to_string(), r#""it's \"x\"\n""#);
        assert_eq!(quoted(Path::new("/a b")).to_string(), r#""/a b""#);
        assert_eq!(short("4").to_string(), "4");
        let hundred = "é".repeat(MAX_CHARS);
        assert_eq!(quoted(&hundred).to_string(), format!("{hundred:?}"));
    }

    #[test]
    fn long_values_are_cut_at_a_char_boundary_with_their_length() {
        let big = "é".repeat(5 << 20);
        let q = quoted(&big).to_string();
        assert_eq!(
            q,
            format!("\"{}\"... (10485760 bytes)", "é".repeat(MAX_CHARS))
        );
        assert!(short(&big).to_string().len() < 250);
        let msg = format!("mdrun: {}", "x".repeat(1 << 20));
        let capped = cap(&msg);
        assert!(capped.len() < MAX_MESSAGE_CHARS + 50, "{}", capped.len());
        assert!(capped.ends_with("(cut: 1048583 bytes in all)"));
        assert_eq!(cap("short"), "short");
    }
}
