//! The host's mount table, as this test process sees it.

use std::ffi::CString;
use std::fs;
use std::path::{Path, PathBuf};

/// One line of /proc/self/mountinfo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub id: u32,
    pub mount_point: PathBuf,
    /// Per-mount options (rw, nosuid...).
    pub options: String,
    /// Propagation: `shared:N`, `master:N`... (a runtime that forgets to make its own mount
    /// namespace private changes these on the host).
    pub optional: String,
    pub fstype: String,
    pub source: String,
    /// Per-superblock options.
    pub super_options: String,
}

/// mountinfo escapes space, tab, newline and backslash as octal.
pub fn unescape(field: &str) -> String {
    let mut out = Vec::new();
    let bytes = field.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 4 <= bytes.len() {
            if let Some(n) = std::str::from_utf8(&bytes[i + 1..i + 4])
                .ok()
                .and_then(|o| u8::from_str_radix(o, 8).ok())
            {
                out.push(n);
                i += 4;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn mounts() -> Vec<Mount> {
    let text = fs::read_to_string("/proc/self/mountinfo").expect("read /proc/self/mountinfo");
    text.lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let left: Vec<&str> = left.split(' ').collect();
            let right: Vec<&str> = right.split(' ').collect();
            Some(Mount {
                id: left.first()?.parse().ok()?,
                mount_point: PathBuf::from(unescape(left.get(4)?)),
                options: left.get(5)?.to_string(),
                optional: left.get(6..).map(|o| o.join(" ")).unwrap_or_default(),
                fstype: right.first()?.to_string(),
                source: unescape(right.get(1)?),
                super_options: right.get(2).map(|s| s.to_string()).unwrap_or_default(),
            })
        })
        .collect()
}

/// Mounts at or below `dir`, deepest first.
pub fn mounts_under(dir: &Path) -> Vec<Mount> {
    let mut found: Vec<Mount> = mounts()
        .into_iter()
        .filter(|m| m.mount_point.starts_with(dir))
        .collect();
    found.sort_by_key(|m| std::cmp::Reverse(m.mount_point.as_os_str().len()));
    found
}

/// Lazily detach a mount a scenario leaked, so that removing its directory cannot reach
/// through it into whatever was mounted there.
pub fn detach(mount_point: &Path) -> std::io::Result<()> {
    let c = CString::new(mount_point.as_os_str().as_encoded_bytes()).expect("no NUL in path");
    // SAFETY: c is a valid NUL-terminated path for the duration of the call.
    if unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// statfs(2) f_type of overlayfs.
const OVERLAYFS_SUPER_MAGIC: i64 = 0x794c_7630;

pub fn is_overlayfs(path: &Path) -> bool {
    let c = CString::new(path.as_os_str().as_encoded_bytes()).expect("no NUL in path");
    // SAFETY: an all-zero statfs is a valid value for the kernel to overwrite.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: c is a valid path and st a valid, writable statfs.
    if unsafe { libc::statfs(c.as_ptr(), &mut st) } != 0 {
        panic!(
            "statfs {}: {}",
            path.display(),
            std::io::Error::last_os_error()
        );
    }
    st.f_type as i64 == OVERLAYFS_SUPER_MAGIC
}
