//! Deletions in a layer, in the two spellings mdrun meets:
//! - overlayfs (what a container's write layer holds, and how stacked layers are stored
//!   here so that overlayfs understands them): a deleted `name` is a character device 0:0
//!   named `name`; a directory whose lower contents are hidden has the xattr
//!   `trusted.overlay.opaque=y`;
//! - OCI layer tarballs (image-spec `layer.md`, "Whiteouts"): a deleted `name` is an empty
//!   file `.wh.<name>` beside it; an opaque directory holds an empty `.wh..wh..opq`.
//!
//! `layer_tar` turns the first into the second when it writes a layer tarball, and
//! `unpack` (with [`super::Whiteouts::Overlay`]) turns the second back into the first.

use nix::errno::Errno;
use nix::sys::stat::{mknodat, Mode, SFlag};
use std::ffi::{OsStr, OsString};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;

/// Prefix of an OCI whiteout file.
pub(crate) const WH_PREFIX: &[u8] = b".wh.";
/// The OCI opaque-directory marker.
pub(crate) const OPAQUE_MARKER: &[u8] = b".wh..wh..opq";
/// Every xattr overlayfs keeps for itself starts with this; none belongs in an image.
pub(crate) const OVERLAY_XATTR_PREFIX: &[u8] = b"trusted.overlay.";
pub(crate) const OPAQUE_XATTR: &str = "trusted.overlay.opaque";

/// What an OCI tar entry's file name means.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum OciName<'a> {
    /// `.wh..wh..opq`: the directory holding it is opaque.
    Opaque,
    /// `.wh.<name>`: `<name>` is deleted.
    Whiteout(&'a OsStr),
    /// Another `.wh..wh.*` name: aufs bookkeeping (`.wh..wh.plnk`, `.wh..wh.aufs`) that
    /// docker skips too; it means nothing to overlayfs.
    Meta,
}

/// `None` for an ordinary name.
pub(crate) fn classify(file_name: &OsStr) -> Option<OciName<'_>> {
    let bytes = file_name.as_bytes();
    let rest = bytes.strip_prefix(WH_PREFIX)?;
    if bytes == OPAQUE_MARKER {
        return Some(OciName::Opaque);
    }
    if rest.starts_with(WH_PREFIX) || rest.is_empty() || rest == b"." || rest == b".." {
        return Some(OciName::Meta);
    }
    Some(OciName::Whiteout(OsStr::from_bytes(rest)))
}

/// `.wh.<name>`, the OCI spelling of "`name` was deleted".
pub(crate) fn oci_whiteout_name(name: &OsStr) -> OsString {
    let mut out = WH_PREFIX.to_vec();
    out.extend_from_slice(name.as_bytes());
    OsString::from_vec(out)
}

/// Whether a file of this `st_mode` and `st_rdev` is an overlayfs whiteout.
pub(crate) fn is_overlay_whiteout(mode: u32, rdev: u64) -> bool {
    mode & libc::S_IFMT == libc::S_IFCHR && rdev == 0
}

/// Whether the value of `trusted.overlay.opaque` makes the directory opaque. (`x` marks
/// a merged directory that only *may* hide something: not opaque.)
pub(crate) fn is_opaque_value(value: &[u8]) -> bool {
    value == b"y"
}

/// Whether the xattr is overlayfs' own (never copied into a tarball).
pub(crate) fn is_overlay_xattr(name: &OsStr) -> bool {
    name.as_bytes().starts_with(OVERLAY_XATTR_PREFIX)
}

/// Writes the overlayfs form of an OCI whiteout entry found in directory `parent`.
pub(crate) fn apply(oci: &OciName<'_>, parent: &OwnedFd) -> nix::Result<()> {
    match oci {
        OciName::Opaque => set_opaque(parent, None),
        OciName::Whiteout(name) => make_whiteout(parent, name).map(|_| ()),
        OciName::Meta => Ok(()),
    }
}

/// Makes `parent/name` an overlayfs whiteout. When this layer already has something at
/// `name`, it stays (an OCI whiteout hides only what is below its layer); if that is a
/// directory, it becomes opaque, which is how overlayfs says "only my own entries".
/// Returns whether a whiteout was made.
pub(crate) fn make_whiteout(parent: &OwnedFd, name: &OsStr) -> nix::Result<bool> {
    match mknodat(parent, name, SFlag::S_IFCHR, Mode::empty(), 0) {
        Ok(()) => Ok(true),
        Err(Errno::EEXIST) => {
            if super::fsops::is_dir_at(parent, name)? {
                set_opaque(parent, Some(name))?;
            }
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

/// Sets `trusted.overlay.opaque=y` on `dir/name`, or on `dir` itself when `name` is None.
/// `dir` may be an `O_PATH` descriptor: the xattr is set through its `/proc/self/fd` link.
pub(crate) fn set_opaque(dir: &OwnedFd, name: Option<&OsStr>) -> nix::Result<()> {
    let fd_link = PathBuf::from(format!("/proc/self/fd/{}", dir.as_raw_fd()));
    let result = match name {
        // lsetxattr: `name` itself is never followed.
        Some(name) => xattr::set(fd_link.join(name), OPAQUE_XATTR, b"y"),
        // setxattr follows the magic link to the directory the descriptor stands for.
        None => xattr::set_deref(&fd_link, OPAQUE_XATTR, b"y"),
    };
    result.map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::fcntl::{open, OFlag};
    use std::os::unix::fs::{FileTypeExt, MetadataExt};

    fn os(s: &str) -> &OsStr {
        OsStr::new(s)
    }

    #[test]
    fn oci_names_are_classified() {
        assert_eq!(classify(os("file")), None);
        assert_eq!(classify(os(".whatever")), None);
        assert_eq!(classify(os(".wh..wh..opq")), Some(OciName::Opaque));
        assert_eq!(classify(os(".wh.etc")), Some(OciName::Whiteout(os("etc"))));
        assert_eq!(
            classify(os(".wh..hidden")),
            Some(OciName::Whiteout(os(".hidden")))
        );
        assert_eq!(classify(os(".wh..wh.plnk")), Some(OciName::Meta));
        assert_eq!(classify(os(".wh.")), Some(OciName::Meta));
        assert_eq!(classify(os(".wh...")), Some(OciName::Meta));
    }

    #[test]
    fn whiteout_names_round_trip() {
        for name in ["a", ".hidden", "with space", "ünïcode"] {
            let oci = oci_whiteout_name(os(name));
            assert_eq!(classify(&oci), Some(OciName::Whiteout(os(name))));
        }
    }

    #[test]
    fn only_char_0_0_is_a_whiteout_and_only_y_is_opaque() {
        assert!(is_overlay_whiteout(libc::S_IFCHR | 0o644, 0));
        assert!(!is_overlay_whiteout(libc::S_IFCHR, libc::makedev(1, 3)));
        assert!(!is_overlay_whiteout(libc::S_IFREG, 0));
        assert!(!is_overlay_whiteout(libc::S_IFBLK, 0));
        assert!(is_opaque_value(b"y"));
        assert!(!is_opaque_value(b"x"));
        assert!(!is_opaque_value(b""));
        assert!(is_overlay_xattr(os("trusted.overlay.origin")));
        assert!(!is_overlay_xattr(os("user.overlay.opaque")));
        assert!(!is_overlay_xattr(os("security.capability")));
    }

    /// Needs root (mknod, trusted.* xattrs), as the real conversion does.
    #[test]
    fn whiteouts_and_opaque_dirs_are_made_in_overlay_form() {
        if !nix::unistd::geteuid().is_root() {
            eprintln!("skipped: needs root");
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("kept")).unwrap();
        std::fs::write(tmp.path().join("file"), b"x").unwrap();
        let dir = open(
            tmp.path(),
            OFlag::O_PATH | OFlag::O_DIRECTORY,
            Mode::empty(),
        )
        .unwrap();
        assert!(make_whiteout(&dir, os("gone")).unwrap());
        let st = std::fs::symlink_metadata(tmp.path().join("gone")).unwrap();
        assert!(st.file_type().is_char_device() && st.rdev() == 0);
        // Something of this layer is there already: kept, and a directory turns opaque.
        assert!(!make_whiteout(&dir, os("file")).unwrap());
        assert!(std::fs::symlink_metadata(tmp.path().join("file"))
            .unwrap()
            .is_file());
        assert!(!make_whiteout(&dir, os("kept")).unwrap());
        let value = xattr::get(tmp.path().join("kept"), OPAQUE_XATTR).unwrap();
        assert_eq!(value.as_deref(), Some(&b"y"[..]));
        set_opaque(&dir, None).unwrap();
        let value = xattr::get(tmp.path(), OPAQUE_XATTR).unwrap();
        assert_eq!(value.as_deref(), Some(&b"y"[..]));
    }
}
