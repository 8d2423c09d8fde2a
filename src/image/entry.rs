//! What a tar entry says, read and checked before anything is written: its path inside
//! the layer, its metadata (header fields and the PAX records that override them) and its
//! device numbers.

use super::ImageError;
use nix::sys::time::TimeSpec;
use std::ffi::{OsStr, OsString};
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// What a tar header says about an entry besides its content.
#[derive(Debug, Clone)]
pub(crate) struct Meta {
    /// Permission bits with setuid, setgid and sticky (07777).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub mtime: TimeSpec,
    /// From PAX `SCHILY.xattr.<name>` records.
    pub xattrs: Vec<(OsString, Vec<u8>)>,
}

/// The path inside the layer: `/` and `.` components dropped; `None` if it has a `..`.
pub(crate) fn clean(raw: &[u8]) -> Option<PathBuf> {
    let mut path = PathBuf::new();
    for part in raw.split(|&b| b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => return None,
            _ => path.push(OsStr::from_bytes(part)),
        }
    }
    Some(path)
}

pub(crate) fn io_entry(entry: &str, step: &'static str, source: io::Error) -> ImageError {
    ImageError::Entry {
        entry: entry.to_string(),
        step,
        source,
    }
}

pub(crate) fn device<R: Read>(entry: &tar::Entry<R>, name: &str) -> Result<u64, ImageError> {
    let bad = |e| io_entry(name, "read device numbers", e);
    let major = entry.header().device_major().map_err(bad)?.unwrap_or(0);
    let minor = entry.header().device_minor().map_err(bad)?.unwrap_or(0);
    Ok(libc::makedev(major, minor))
}

/// Mode, owner, mtime and xattrs from the header and its PAX records (which carry large
/// ids, sub-second mtimes and `SCHILY.xattr.*`).
pub(crate) fn read_meta<R: Read>(
    entry: &mut tar::Entry<R>,
    name: &str,
) -> Result<Meta, ImageError> {
    let bad = |e| io_entry(name, "read header", e);
    let header = entry.header();
    let mode = header.mode().map_err(bad)? & 0o7777;
    let mut uid = header.uid().map_err(bad)?;
    let mut gid = header.gid().map_err(bad)?;
    let mut mtime = TimeSpec::new(header.mtime().map_err(bad)? as i64, 0);
    let mut xattrs = Vec::new();
    if let Some(records) = entry.pax_extensions().map_err(bad)? {
        for record in records {
            let record = record.map_err(bad)?;
            let value = record.value_bytes();
            match record.key_bytes() {
                b"uid" => uid = parse_u64(value).ok_or_else(|| bad(invalid("PAX uid")))?,
                b"gid" => gid = parse_u64(value).ok_or_else(|| bad(invalid("PAX gid")))?,
                b"mtime" => {
                    mtime = parse_pax_time(value).ok_or_else(|| bad(invalid("PAX mtime")))?
                }
                key => match key.strip_prefix(b"SCHILY.xattr.") {
                    // overlayfs reads its own state (opaque dirs, redirects, metacopy) from
                    // `trusted.overlay.*` on the layers: an archive must not plant it. Only
                    // the store makes such markers (see `Whiteouts`).
                    Some(attr) if attr.starts_with(b"trusted.overlay.") => {}
                    Some(attr) => {
                        xattrs.push((OsStr::from_bytes(attr).to_os_string(), value.to_vec()))
                    }
                    None => {}
                },
            }
        }
    }
    let id = |v: u64| u32::try_from(v).map_err(|_| bad(invalid("uid or gid above 2^32")));
    Ok(Meta {
        mode,
        uid: id(uid)?,
        gid: id(gid)?,
        mtime,
        xattrs,
    })
}

fn invalid(what: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

fn parse_u64(v: &[u8]) -> Option<u64> {
    std::str::from_utf8(v).ok()?.parse().ok()
}

/// PAX time: `-?seconds[.fraction]`.
fn parse_pax_time(v: &[u8]) -> Option<TimeSpec> {
    let s = std::str::from_utf8(v).ok()?;
    let (neg, s) = s.strip_prefix('-').map_or((false, s), |r| (true, r));
    let (secs, frac) = s.split_once('.').unwrap_or((s, ""));
    let secs: i64 = secs.parse().ok()?;
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits: String = frac.chars().chain(std::iter::repeat('0')).take(9).collect();
    let nanos: i64 = digits.parse().ok()?;
    Some(match (neg, nanos) {
        (false, n) => TimeSpec::new(secs, n),
        (true, 0) => TimeSpec::new(-secs, 0),
        (true, n) => TimeSpec::new(-secs - 1, 1_000_000_000 - n),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_drops_slashes_and_dots_and_refuses_dotdot() {
        assert_eq!(clean(b"/usr//bin/./sh"), Some(PathBuf::from("usr/bin/sh")));
        assert_eq!(clean(b"./"), Some(PathBuf::new()));
        assert_eq!(clean(b"a/../b"), None);
        assert_eq!(clean(b"/../etc"), None);
    }

    #[test]
    fn pax_times_keep_nanoseconds() {
        assert_eq!(
            parse_pax_time(b"12.5"),
            Some(TimeSpec::new(12, 500_000_000))
        );
        assert_eq!(parse_pax_time(b"12"), Some(TimeSpec::new(12, 0)));
        assert_eq!(
            parse_pax_time(b"-1.25"),
            Some(TimeSpec::new(-2, 750_000_000))
        );
        assert_eq!(parse_pax_time(b"1.x"), None);
    }
}
