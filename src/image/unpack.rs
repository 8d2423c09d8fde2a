//! Writes a tar stream into an empty layer directory, never outside it.
//!
//! The tar crate parses (long names, PAX, sparse files); the writing is ours, because its
//! `Entry::unpack_in` silently skips `..` entries instead of failing, turns device nodes and
//! fifos into empty regular files, and never sets a directory's mtime or xattrs. Here:
//! - a path or hard-link target with a `..` component fails the import, naming the entry;
//!   a leading `/` is dropped (the layer is the root), as docker and GNU tar do;
//! - parents are opened with `openat2(RESOLVE_BENEATH)` (see `fsops`), so a planted symlink
//!   (`evil -> /etc`, then `evil/passwd`) fails with EXDEV rather than being followed;
//! - directories get their mode, owner, xattrs and mtime at the end, deepest first, so
//!   creating their children does not undo the mtime;
//! - no fsync: the layer becomes visible by one rename, and a crash before it leaves only a
//!   scratch dir that the next import sweeps away.

use super::entry::{clean, device, io_entry, read_meta, Meta};
use super::fsops::{is_dir_at, open_beneath, remove_existing, Applier};
use super::header_budget::{EofWatch, HeaderBudget};
use super::tar_split::{Recorder, Tee};
use super::ImageError;
use nix::errno::Errno;
use nix::fcntl::{openat, AtFlags, OFlag};
use nix::sys::stat::{mkdirat, mknodat, Mode, SFlag};
use nix::unistd::{linkat, symlinkat};
use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use tar::EntryType;

/// What to do with OCI whiteouts (`.wh.<name>`, `.wh..wh..opq`). An imported root
/// filesystem is a bottom layer with nothing beneath to hide: there they are ordinary
/// files (`Literal`). Layers that stack on others (`commit`, `load`) use `Overlay`: they
/// become overlayfs whiteouts (a 0:0 character device, `trusted.overlay.opaque=y`) in
/// [`Unpacker::entry`], before the entry is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Whiteouts {
    #[default]
    Literal,
    /// OCI whiteouts become overlayfs ones (see `whiteout`): for layers that stack.
    Overlay,
}

#[derive(Debug, Default)]
pub(crate) struct Unpacked {
    /// Bytes of regular file content (hard links not counted again).
    pub size: u64,
    /// Extended attributes the file system or our privileges refused.
    pub xattrs_skipped: u64,
    /// The stream without its file content (see `tar_split`), when asked for.
    pub split: Option<Vec<u8>>,
    /// Device nodes left out ([`unpack_on_host`]), by their names in the stream.
    pub devices_skipped: Vec<String>,
}

/// [`unpack`] of what comes out of a container onto the host (`cp CONTAINER:SRC HOST`):
/// what root in the container made must not give a host user root. Device nodes are left
/// out (a node of the host's disk, mode 0666, would be a way into it: the container's own
/// device filter does not apply on the host), setuid and setgid bits are dropped, and so
/// are file capabilities (`security.capability`).
pub(crate) fn unpack_on_host(input: &mut dyn Read, dir: &Path) -> Result<Unpacked, ImageError> {
    unpack_inner(input, dir, Whiteouts::Literal, false, true)
}

/// Unpacks `input` into the existing, empty directory `dir`.
pub(crate) fn unpack(
    input: &mut dyn Read,
    dir: &Path,
    whiteouts: Whiteouts,
) -> Result<Unpacked, ImageError> {
    unpack_with(input, dir, whiteouts, false)
}

/// [`unpack`], recording the stream's tar-split (`Unpacked::split`): for layers whose
/// tarball must be written again byte for byte (`save`, `push`).
pub(crate) fn unpack_recorded(
    input: &mut dyn Read,
    dir: &Path,
    whiteouts: Whiteouts,
) -> Result<Unpacked, ImageError> {
    unpack_with(input, dir, whiteouts, true)
}

fn unpack_with(
    input: &mut dyn Read,
    dir: &Path,
    whiteouts: Whiteouts,
    record: bool,
) -> Result<Unpacked, ImageError> {
    unpack_inner(input, dir, whiteouts, record, false)
}

fn unpack_inner(
    input: &mut dyn Read,
    dir: &Path,
    whiteouts: Whiteouts,
    record: bool,
    to_host: bool,
) -> Result<Unpacked, ImageError> {
    let root = nix::fcntl::open(
        dir,
        OFlag::O_DIRECTORY | OFlag::O_PATH | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| ImageError::Io {
        step: "open",
        path: dir.to_path_buf(),
        source: e.into(),
    })?;
    let mut un = Unpacker {
        root,
        whiteouts,
        dirs: HashMap::new(),
        deferred: Vec::new(),
        apply: Applier {
            chown: nix::unistd::geteuid().is_root(),
            xattrs_skipped: 0,
        },
        buf: vec![0u8; 256 << 10],
        size: 0,
        recorder: record.then(Recorder::new),
        to_host,
        devices_skipped: Vec::new(),
    };
    let budget = Rc::new(HeaderBudget::default());
    let mut watch = EofWatch {
        inner: input,
        hit_eof: false,
        budget: budget.clone(),
    };
    let mut tee = Tee {
        inner: &mut watch,
        recorder: un.recorder.clone(),
    };
    {
        let mut archive = tar::Archive::new(&mut tee);
        for entry in archive.entries().map_err(ImageError::Archive)? {
            let mut entry = entry.map_err(ImageError::Archive)?;
            // What the entry's own content costs is not the headers'.
            budget.counting.set(false);
            un.entry(&mut entry)?;
            budget.used.set(0);
            budget.counting.set(true);
        }
    }
    // The tar crate ends both at the end-of-archive block and at a plain EOF between
    // entries; only the first is a complete archive.
    if tee.inner.hit_eof {
        return Err(ImageError::Truncated);
    }
    // What follows the end-of-archive block (its second block, a record's padding) is
    // part of the layer's digest: the tar-split keeps it.
    if let Some(recorder) = tee.recorder.take() {
        budget.counting.set(false);
        io::copy(
            &mut Tee {
                inner: &mut tee.inner,
                recorder: Some(recorder),
            },
            &mut io::sink(),
        )
        .map_err(ImageError::Archive)?;
    }
    un.finish_dirs()?;
    Ok(Unpacked {
        size: un.size,
        xattrs_skipped: un.apply.xattrs_skipped,
        split: un.recorder.take().and_then(Recorder::finish),
        devices_skipped: un.devices_skipped,
    })
}

struct Unpacker {
    /// The layer's root, O_PATH: every path is resolved beneath it.
    root: OwnedFd,
    whiteouts: Whiteouts,
    /// Parent directories already opened, by path relative to the root. Cleared whenever
    /// an entry replaces something, so a cached fd never stands for a path that changed.
    dirs: HashMap<PathBuf, Rc<OwnedFd>>,
    /// Directory metadata, applied at the end.
    deferred: Vec<(PathBuf, Meta)>,
    apply: Applier,
    buf: Vec<u8>,
    size: u64,
    recorder: Option<Rc<RefCell<Recorder>>>,
    /// See [`unpack_on_host`].
    to_host: bool,
    devices_skipped: Vec<String>,
}

fn unsafe_entry(entry: &str, reason: &'static str) -> ImageError {
    ImageError::UnsafeEntry {
        entry: entry.to_string(),
        reason,
    }
}

fn entry_err<'a>(entry: &'a str, step: &'static str) -> impl FnOnce(Errno) -> ImageError + 'a {
    move |e| ImageError::Entry {
        entry: entry.to_string(),
        step,
        source: e.into(),
    }
}

impl Unpacker {
    fn entry<R: Read>(&mut self, entry: &mut tar::Entry<R>) -> Result<(), ImageError> {
        let raw = entry.path_bytes().into_owned();
        let name = String::from_utf8_lossy(&raw).into_owned();
        let rel =
            clean(&raw).ok_or_else(|| unsafe_entry(&name, "its path has a \"..\" component"))?;
        let kind = entry.header().entry_type();
        match self.whiteouts {
            // See `Whiteouts`.
            Whiteouts::Literal => {}
            Whiteouts::Overlay => {
                if let Some(oci) = rel.file_name().and_then(super::whiteout::classify) {
                    let parent = self.parent(&rel, &name)?;
                    return super::whiteout::apply(&oci, &parent)
                        .map_err(entry_err(&name, "make the overlayfs whiteout"));
                }
            }
        }
        // Global PAX records change nothing we keep; the tar crate folds the others into
        // the entry they describe.
        if matches!(
            kind,
            EntryType::XGlobalHeader
                | EntryType::XHeader
                | EntryType::GNULongName
                | EntryType::GNULongLink
        ) {
            return Ok(());
        }
        let mut meta = read_meta(entry, &name)?;
        if self.to_host {
            if matches!(kind, EntryType::Char | EntryType::Block) {
                self.devices_skipped.push(name);
                return Ok(());
            }
            meta.mode &= !0o6000;
            meta.xattrs.retain(|(key, _)| key != "security.capability");
        }
        if rel.as_os_str().is_empty() {
            // "./": the layer root itself. Only its metadata can be taken.
            return match kind {
                EntryType::Directory => {
                    self.deferred.push((rel, meta));
                    Ok(())
                }
                _ => Err(unsafe_entry(
                    &name,
                    "a non-directory entry names the layer root",
                )),
            };
        }
        let parent = self.parent(&rel, &name)?;
        let file_name = rel
            .file_name()
            .expect("a cleaned, non-empty path has a last component");
        match kind {
            EntryType::Directory => {
                self.mkdir(&parent, file_name, &name)?;
                self.deferred.push((rel, meta));
                Ok(())
            }
            EntryType::Symlink => {
                let target = entry.link_name_bytes().filter(|t| !t.is_empty());
                let target =
                    target.ok_or_else(|| unsafe_entry(&name, "symlink without a target"))?;
                let target = OsStr::from_bytes(&target).to_os_string();
                self.replacing(&parent, file_name, &name, "symlink", |dir| {
                    symlinkat(target.as_os_str(), dir, file_name)
                })?;
                self.apply
                    .apply_at(&parent, file_name, &meta, true)
                    .map_err(|(s, e)| io_entry(&name, s, e))
            }
            EntryType::Link => self.hard_link(entry, &parent, file_name, &name),
            EntryType::Char | EntryType::Block | EntryType::Fifo => {
                let (kind_flag, dev) = match kind {
                    EntryType::Char => (SFlag::S_IFCHR, device(entry, &name)?),
                    EntryType::Block => (SFlag::S_IFBLK, device(entry, &name)?),
                    _ => (SFlag::S_IFIFO, 0),
                };
                let perm = Mode::from_bits_truncate(meta.mode & 0o777);
                self.replacing(&parent, file_name, &name, "mknod", |dir| {
                    mknodat(dir, file_name, kind_flag, perm, dev)
                })?;
                crate::stop_point::reached("unpack:node-made");
                self.apply
                    .apply_at(&parent, file_name, &meta, false)
                    .map_err(|(s, e)| io_entry(&name, s, e))
            }
            // Regular, contiguous, sparse, and (as POSIX asks) any unknown type: a file.
            _ => {
                if let (Some(r), EntryType::Regular | EntryType::Continuous) =
                    (&self.recorder, kind)
                {
                    r.borrow_mut()
                        .file(entry.raw_file_position(), entry.size(), &rel);
                }
                self.file(entry, &parent, file_name, &name, &meta)
            }
        }
    }

    /// Opens (creating as needed) the directory that will hold `rel`.
    fn parent(&mut self, rel: &Path, name: &str) -> Result<Rc<OwnedFd>, ImageError> {
        let parent = rel.parent().unwrap_or(Path::new(""));
        if let Some(fd) = self.dirs.get(parent) {
            return Ok(fd.clone());
        }
        let flags = OFlag::O_PATH | OFlag::O_DIRECTORY;
        let fd = match open_beneath(&self.root, parent, flags) {
            Err(Errno::ENOENT) => {
                self.make_parents(parent, name)?;
                open_beneath(&self.root, parent, flags)
            }
            other => other,
        }
        .map_err(|e| resolve_err(name, e))?;
        if self.dirs.len() >= 256 {
            self.dirs.clear();
        }
        let fd = Rc::new(fd);
        self.dirs.insert(parent.to_path_buf(), fd.clone());
        Ok(fd)
    }

    /// `mkdir -p` of a parent the archive did not list (or listed later), from the root
    /// down, each step resolved beneath the root.
    fn make_parents(&mut self, parent: &Path, name: &str) -> Result<(), ImageError> {
        let mut prefix = PathBuf::new();
        for part in parent.iter() {
            let above = open_beneath(&self.root, &prefix, OFlag::O_PATH | OFlag::O_DIRECTORY)
                .map_err(|e| resolve_err(name, e))?;
            prefix.push(part);
            match mkdirat(&above, part, Mode::from_bits_truncate(0o755)) {
                Ok(()) | Err(Errno::EEXIST) => {}
                Err(e) => return Err(entry_err(name, "create parent directory")(e)),
            }
        }
        Ok(())
    }

    fn mkdir(&mut self, parent: &OwnedFd, file_name: &OsStr, name: &str) -> Result<(), ImageError> {
        let mode = Mode::from_bits_truncate(0o755);
        match mkdirat(parent, file_name, mode) {
            Ok(()) => Ok(()),
            Err(Errno::EEXIST) if is_dir_at(parent, file_name).unwrap_or(false) => Ok(()),
            Err(Errno::EEXIST) => self.replacing(parent, file_name, name, "mkdir", |dir| {
                mkdirat(dir, file_name, mode)
            }),
            Err(e) => Err(entry_err(name, "mkdir")(e)),
        }
    }

    /// Runs `make`; if something is already there (a later entry of the same path wins, as
    /// with GNU tar), removes it and runs `make` again.
    fn replacing(
        &mut self,
        parent: &OwnedFd,
        file_name: &OsStr,
        name: &str,
        step: &'static str,
        mut make: impl FnMut(&OwnedFd) -> nix::Result<()>,
    ) -> Result<(), ImageError> {
        match make(parent) {
            Err(Errno::EEXIST) => {
                self.dirs.clear();
                remove_existing(parent, file_name)
                    .map_err(entry_err(name, "remove the existing entry"))?;
                make(parent).map_err(entry_err(name, step))
            }
            other => other.map_err(entry_err(name, step)),
        }
    }

    fn file<R: Read>(
        &mut self,
        entry: &mut tar::Entry<R>,
        parent: &OwnedFd,
        file_name: &OsStr,
        name: &str,
        meta: &Meta,
    ) -> Result<(), ImageError> {
        let flags =
            OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        let mode = Mode::from_bits_truncate(0o600);
        let mut fd = None;
        self.replacing(parent, file_name, name, "create", |dir| {
            fd = Some(openat(dir, file_name, flags, mode)?);
            Ok(())
        })?;
        let mut file = File::from(fd.expect("created above"));
        let expected = entry.size();
        let mut written = 0u64;
        loop {
            let n = match entry.read(&mut self.buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(ImageError::Archive(e)),
            };
            file.write_all(&self.buf[..n])
                .map_err(|e| io_entry(name, "write", e))?;
            written += n as u64;
        }
        if written != expected {
            return Err(ImageError::TruncatedEntry {
                entry: name.to_string(),
            });
        }
        self.size += written;
        self.apply
            .apply_fd(&file, meta)
            .map_err(|(s, e)| io_entry(name, s, e))
    }

    fn hard_link<R: Read>(
        &mut self,
        entry: &mut tar::Entry<R>,
        parent: &OwnedFd,
        file_name: &OsStr,
        name: &str,
    ) -> Result<(), ImageError> {
        let target = entry
            .link_name_bytes()
            .ok_or_else(|| unsafe_entry(name, "hard link without a target"))?;
        let target = clean(&target)
            .ok_or_else(|| unsafe_entry(name, "its hard-link target has a \"..\" component"))?;
        let target_name = target
            .file_name()
            .ok_or_else(|| unsafe_entry(name, "hard link to the layer root"))?;
        let target_name: OsString = target_name.to_os_string();
        // Opened, not created: a link to a file that is not there fails at linkat.
        let above = target.parent().unwrap_or(Path::new(""));
        let target_parent = open_beneath(&self.root, above, OFlag::O_PATH | OFlag::O_DIRECTORY)
            .map_err(|e| resolve_err(name, e))?;
        // linkat without AT_SYMLINK_FOLLOW links a symlink itself, never what it points at.
        self.replacing(parent, file_name, name, "hard link", |dir| {
            linkat(
                &target_parent,
                target_name.as_os_str(),
                dir,
                file_name,
                AtFlags::empty(),
            )
        })
    }

    /// Mode, owner, xattrs and mtime of every directory, children before parents.
    fn finish_dirs(&mut self) -> Result<(), ImageError> {
        let mut deferred = std::mem::take(&mut self.deferred);
        // Stable: when a directory is listed twice, its later entry is applied last.
        deferred.sort_by(|a, b| b.0.as_os_str().as_bytes().cmp(a.0.as_os_str().as_bytes()));
        for (rel, meta) in &deferred {
            let name = rel.to_string_lossy();
            let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW;
            let dir = match open_beneath(&self.root, rel, flags) {
                Ok(fd) => File::from(fd),
                // A later entry replaced it with a non-directory: nothing to apply.
                Err(Errno::ENOTDIR | Errno::ELOOP | Errno::ENOENT) => continue,
                Err(e) => return Err(resolve_err(&name, e)),
            };
            self.apply
                .apply_fd(&dir, meta)
                .map_err(|(s, e)| io_entry(&name, s, e))?;
        }
        if !deferred.iter().any(|(rel, _)| rel.as_os_str().is_empty()) {
            // No "./" entry: give the root the usual mode rather than what mkdir left.
            let root = open_beneath(
                &self.root,
                Path::new(""),
                OFlag::O_RDONLY | OFlag::O_DIRECTORY,
            )
            .map_err(entry_err(".", "open"))?;
            nix::sys::stat::fchmod(&root, Mode::from_bits_truncate(0o755))
                .map_err(entry_err(".", "chmod"))?;
        }
        Ok(())
    }
}

fn resolve_err(name: &str, e: Errno) -> ImageError {
    match e {
        Errno::EXDEV => unsafe_entry(
            name,
            "a directory on its path is a symlink leading out of the layer",
        ),
        e => entry_err(name, "open parent directory")(e),
    }
}
