//! Writes a directory tree as a tar stream: a container's write layer (for `commit`), an
//! image layer (for `save`) or a merged root filesystem (for `export`).
//!
//! - The same tree always gives the same bytes: entries in byte order of their names,
//!   owners as numbers, no user or group names, mtimes in whole seconds. A layer's id is
//!   the sha256 of this stream, so committing an unchanged tree twice reuses the layer.
//! - Nothing is followed: every directory is opened relative to its parent with
//!   `O_NOFOLLOW | O_DIRECTORY`, and files with `O_NOFOLLOW`, so a running container that
//!   swaps a directory for a symlink to `/etc` cannot make us read the host's files; a file
//!   is opened only once checked to be the regular file the walk saw (`fsops::open_regular`),
//!   so one swapped for a device node or fifo is never opened on the host.
//! - With `oci_whiteouts`, overlayfs whiteouts (character device 0:0) become OCI `.wh.`
//!   files and opaque directories get a `.wh..wh..opq` entry (see `whiteout`).
//! - overlayfs' own xattrs (`trusted.overlay.*`) are dropped; others go into PAX
//!   `SCHILY.xattr.*` records, as GNU tar `--xattrs` writes them.
//! - Sockets are skipped (tar cannot hold them; GNU tar skips them too).

use super::whiteout::{
    is_opaque_value, is_overlay_whiteout, is_overlay_xattr, oci_whiteout_name, OPAQUE_MARKER,
    OPAQUE_XATTR,
};
use super::ImageError;
use nix::dir::Dir;
use nix::fcntl::{readlinkat, AtFlags, OFlag};
use nix::sys::stat::{fstat, fstatat, FileStat, Mode};
use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use tar::{EntryType, Header};

/// Where the stream goes. `copy_file` puts a file's content into it: by default through
/// `io::copy` into the concrete writer (which reads straight into a `BufWriter`'s or a
/// `Vec`'s buffer); a sink can do better (see `layer_adopt`).
pub trait TarOut: Write {
    fn copy_file(&mut self, file: &File, size: u64) -> io::Result<u64> {
        io::copy(&mut file.take(size), self)
    }
}

impl<W: Write> TarOut for io::BufWriter<W> {}
impl<T: TarOut + ?Sized> TarOut for &mut T {
    fn copy_file(&mut self, file: &File, size: u64) -> io::Result<u64> {
        (**self).copy_file(file, size)
    }
}
impl TarOut for Vec<u8> {}

/// What went into the stream.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    /// Entries written (whiteouts included).
    pub entries: u64,
    /// Bytes of regular file content.
    pub bytes: u64,
}

/// Writes the tree under `root` to `out` as a complete tar archive (end marker included)
/// and returns `out`.
pub(crate) fn write_tree<W: TarOut>(
    root: &Path,
    out: W,
    oci_whiteouts: bool,
) -> Result<(W, Written), ImageError> {
    let dir = Dir::open(root, dir_flags(), Mode::empty()).map_err(errno_err("open", root))?;
    write_dir(dir, root, Path::new(""), out, oci_whiteouts)
}

/// `write_tree` of a directory already open (`dir`, shown as `label` in errors), every
/// entry named `prefix/...` (the root `prefix/`; `./` without a prefix): what `mdrun cp`
/// sends of a container's directory.
pub(crate) fn write_dir<W: TarOut>(
    dir: Dir,
    label: &Path,
    prefix: &Path,
    out: W,
    oci_whiteouts: bool,
) -> Result<(W, Written), ImageError> {
    let root = label;
    let mut w = TreeWriter {
        tar: tar::Builder::new(out),
        root: root.to_path_buf(),
        prefix: prefix.to_path_buf(),
        oci_whiteouts,
        links: HashMap::new(),
        written: Written::default(),
    };
    let st = fstat(&dir).map_err(errno_err("stat", root))?;
    let (xattrs, _) = w.xattrs_of_dir(&dir, Path::new(""))?;
    let top = match prefix.as_os_str().is_empty() {
        true => Path::new("./"),
        false => Path::new(""),
    };
    w.header_only(top, &st, EntryType::Directory, &xattrs)?;
    w.walk(dir, PathBuf::new())?;
    w.tar.finish().map_err(io_err("write archive", root))?;
    let out = w.tar.into_inner().map_err(io_err("write archive", root))?;
    Ok((out, w.written))
}

fn dir_flags() -> OFlag {
    OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC
}

/// Opens with O_NOATIME (reading a layer does not change its access times, which would
/// write every inode of a freshly unpacked one back to disk), and without it where that is
/// not allowed (EPERM: not the owner, and no CAP_FOWNER).
fn without_atime<T>(flags: OFlag, open: impl Fn(OFlag) -> nix::Result<T>) -> nix::Result<T> {
    match open(flags | OFlag::O_NOATIME) {
        Err(nix::Error::EPERM) => open(flags),
        other => other,
    }
}

fn io_err(step: &'static str, path: &Path) -> impl FnOnce(io::Error) -> ImageError {
    let path = path.to_path_buf();
    move |source| ImageError::Io { step, path, source }
}

fn errno_err(step: &'static str, path: &Path) -> impl FnOnce(nix::Error) -> ImageError {
    let path = path.to_path_buf();
    move |e| ImageError::Io {
        step,
        path,
        source: e.into(),
    }
}

type Xattrs = Vec<(OsString, Vec<u8>)>;

struct TreeWriter<W: TarOut> {
    tar: tar::Builder<W>,
    root: PathBuf,
    /// Prepended to every entry's name (`mdrun cp`); empty for layers.
    prefix: PathBuf,
    oci_whiteouts: bool,
    /// (dev, ino) of regular files with several links -> the path written first.
    links: HashMap<(u64, u64), PathBuf>,
    written: Written,
}

impl<W: TarOut> TreeWriter<W> {
    fn walk(&mut self, mut dir: Dir, rel: PathBuf) -> Result<(), ImageError> {
        let here = self.root.join(&rel);
        let mut names: Vec<OsString> = Vec::new();
        for entry in dir.iter() {
            let entry = entry.map_err(errno_err("read directory", &here))?;
            let name = OsStr::from_bytes(entry.file_name().to_bytes());
            if name != "." && name != ".." {
                names.push(name.to_os_string());
            }
        }
        names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        for name in names {
            let child = rel.join(&name);
            let path = self.root.join(&child);
            let st = match fstatat(&dir, name.as_os_str(), AtFlags::AT_SYMLINK_NOFOLLOW) {
                Ok(st) => st,
                // Deleted since the listing (a running container): it is simply not there.
                Err(nix::Error::ENOENT) => continue,
                Err(e) => return Err(errno_err("stat", &path)(e)),
            };
            match st.st_mode & libc::S_IFMT {
                libc::S_IFDIR => {
                    let open = |f| Dir::openat(&dir, name.as_os_str(), f, Mode::empty());
                    let sub = match without_atime(dir_flags(), open) {
                        Ok(d) => d,
                        Err(nix::Error::ENOENT) => continue,
                        Err(e) => return Err(errno_err("open", &path)(e)),
                    };
                    let st = fstat(&sub).map_err(errno_err("stat", &path))?;
                    let (xattrs, opaque) = self.xattrs_of_dir(&dir, &child)?;
                    self.header_only(&child, &st, EntryType::Directory, &xattrs)?;
                    if opaque && self.oci_whiteouts {
                        let marker = child.join(OsStr::from_bytes(OPAQUE_MARKER));
                        self.empty_file(&marker, &st)?;
                    }
                    self.walk(sub, child)?;
                }
                libc::S_IFREG => self.file(&dir, &name, &child, &st)?,
                libc::S_IFLNK => {
                    let target = match readlinkat(&dir, name.as_os_str()) {
                        Ok(t) => t,
                        Err(nix::Error::ENOENT) => continue,
                        Err(e) => return Err(errno_err("readlink", &path)(e)),
                    };
                    let (xattrs, _) = self.xattrs_at(&dir, &name, &child)?;
                    let mut header = self.header(&st, EntryType::Symlink, &xattrs, &child)?;
                    let entry = self.name(&child);
                    self.tar
                        .append_link(&mut header, entry, target)
                        .map_err(io_err("write archive entry for", &path))?;
                    self.written.entries += 1;
                }
                libc::S_IFCHR
                    if self.oci_whiteouts && is_overlay_whiteout(st.st_mode, st.st_rdev) =>
                {
                    let wh = rel.join(oci_whiteout_name(&name));
                    self.empty_file(&wh, &st)?;
                }
                libc::S_IFCHR | libc::S_IFBLK | libc::S_IFIFO => {
                    let kind = match st.st_mode & libc::S_IFMT {
                        libc::S_IFCHR => EntryType::Char,
                        libc::S_IFBLK => EntryType::Block,
                        _ => EntryType::Fifo,
                    };
                    let (xattrs, _) = self.xattrs_at(&dir, &name, &child)?;
                    let mut header = self.header(&st, kind, &xattrs, &child)?;
                    if kind != EntryType::Fifo {
                        let err = io_err("write archive entry for", &path);
                        header
                            .set_device_major(libc::major(st.st_rdev))
                            .and_then(|()| header.set_device_minor(libc::minor(st.st_rdev)))
                            .map_err(err)?;
                    }
                    self.append(&mut header, &child, io::empty())?;
                }
                _ => {} // sockets
            }
        }
        Ok(())
    }

    fn file(
        &mut self,
        dir: &Dir,
        name: &OsStr,
        rel: &Path,
        st: &FileStat,
    ) -> Result<(), ImageError> {
        let path = self.root.join(rel);
        if st.st_nlink > 1 {
            let key = (st.st_dev, st.st_ino);
            if let Some(first) = self.links.get(&key).cloned() {
                let mut header = self.header(st, EntryType::Link, &Vec::new(), rel)?;
                header.set_size(0);
                let (name, first) = (self.name(rel), self.name(&first));
                self.tar
                    .append_link(&mut header, name, first)
                    .map_err(io_err("write archive entry for", &path))?;
                self.written.entries += 1;
                return Ok(());
            }
            self.links.insert(key, rel.to_path_buf());
        }
        crate::stop_point::reached("tar:file-statted");
        let file = match super::fsops::open_regular(dir, name, st) {
            Ok(file) => file,
            // Gone, or no longer that regular file (a running container): not there.
            Err(nix::Error::ENOENT | nix::Error::ESTALE) => return Ok(()),
            Err(e) => return Err(errno_err("open", &path)(e)),
        };
        // The header's metadata is the walk's `fstatat` (one call fewer per file). Should the
        // file differ from it now (a running container), its content is cut or padded to the
        // size in that header below.
        let (xattrs, _) = file_xattrs(&file).map_err(io_err("read xattrs of", &path))?;
        let mut header = self.header(st, EntryType::Regular, &xattrs, rel)?;
        let size = st.st_size as u64;
        header.set_size(size);
        // The header (and a long name's entry) through the builder, with the size set but
        // no data; then the content straight into the sink, and the padding. A file that
        // shrinks while we read it (a running container) is padded with zeros, as GNU tar
        // does, so the archive stays well formed.
        self.append(&mut header, rel, io::empty())?;
        let out = self.tar.get_mut();
        let write_err = io_err("write archive entry for", &path);
        let copied = out
            .copy_file(&file, size)
            .map_err(io_err("write archive entry for", &path))?;
        let padding = (size - copied.min(size)) + (512 - size % 512) % 512;
        io::copy(&mut io::repeat(0).take(padding), out).map_err(write_err)?;
        self.written.bytes += size;
        Ok(())
    }

    /// An empty regular file: an OCI whiteout or opaque marker, owned by root, mode 0,
    /// mtime 0: the overlayfs form does not keep these, and the stream must come out the
    /// same when a layer made from it is written again (by `save`).
    fn empty_file(&mut self, rel: &Path, like: &FileStat) -> Result<(), ImageError> {
        let mut st = *like;
        st.st_mode = libc::S_IFREG;
        st.st_uid = 0;
        st.st_gid = 0;
        st.st_mtime = 0;
        let mut header = self.header(&st, EntryType::Regular, &Vec::new(), rel)?;
        header.set_size(0);
        self.append(&mut header, rel, io::empty())
    }

    fn header_only(
        &mut self,
        rel: &Path,
        st: &FileStat,
        kind: EntryType,
        xattrs: &Xattrs,
    ) -> Result<(), ImageError> {
        let mut header = self.header(st, kind, xattrs, rel)?;
        self.append(&mut header, rel, io::empty())
    }

    /// A header with the metadata of `st`, preceded in the stream by a PAX header when the
    /// entry has xattrs.
    fn header(
        &mut self,
        st: &FileStat,
        kind: EntryType,
        xattrs: &Xattrs,
        rel: &Path,
    ) -> Result<Header, ImageError> {
        if !xattrs.is_empty() {
            self.pax(rel, xattrs)?;
        }
        let mut header = Header::new_gnu();
        header.set_entry_type(kind);
        header.set_mode(st.st_mode & 0o7777);
        header.set_uid(st.st_uid.into());
        header.set_gid(st.st_gid.into());
        header.set_mtime(st.st_mtime.max(0) as u64);
        header.set_size(0);
        Ok(header)
    }

    fn append(
        &mut self,
        header: &mut Header,
        rel: &Path,
        data: impl Read,
    ) -> Result<(), ImageError> {
        let path = self.root.join(rel);
        let name = self.name(rel);
        self.tar
            .append_data(header, name, data)
            .map_err(io_err("write archive entry for", &path))?;
        self.written.entries += 1;
        Ok(())
    }

    /// The archive name of `rel`: itself, or under the prefix (the root: `prefix/`).
    fn name(&self, rel: &Path) -> PathBuf {
        match (
            self.prefix.as_os_str().is_empty(),
            rel.as_os_str().is_empty(),
        ) {
            (true, _) => rel.to_path_buf(),
            (false, true) => {
                let mut p = self.prefix.clone().into_os_string();
                p.push("/");
                PathBuf::from(p)
            }
            (false, false) => self.prefix.join(rel),
        }
    }

    /// A PAX extended header (`x`) with one `SCHILY.xattr.<name>` record per xattr.
    fn pax(&mut self, rel: &Path, xattrs: &Xattrs) -> Result<(), ImageError> {
        let mut data = Vec::new();
        for (name, value) in xattrs {
            let mut key = b"SCHILY.xattr.".to_vec();
            key.extend_from_slice(name.as_bytes());
            data.extend_from_slice(&pax_record(&key, value));
        }
        let mut header = Header::new_ustar();
        header.set_entry_type(EntryType::XHeader);
        header.set_mode(0o644);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        header.set_size(data.len() as u64);
        // The name of a PAX header is informational; keep it short enough for ustar.
        let base = rel.file_name().map_or(&b"root"[..], |n| n.as_bytes());
        let mut name = b"PaxHeaders/".to_vec();
        name.extend_from_slice(&base[..base.len().min(80)]);
        let name = String::from_utf8_lossy(&name).replace(['\u{fffd}'], "_");
        let path = self.root.join(rel);
        header
            .set_path(&name)
            .map_err(io_err("write archive entry for", &path))?;
        header.set_cksum();
        self.tar
            .append(&header, &data[..])
            .map_err(io_err("write archive entry for", &path))
    }

    fn xattrs_of_dir(&self, parent: &Dir, rel: &Path) -> Result<(Xattrs, bool), ImageError> {
        match rel.file_name() {
            Some(name) => self.xattrs_at(parent, name, rel),
            // The root: through its own descriptor's link, followed.
            None => {
                let link = PathBuf::from(format!("/proc/self/fd/{}", parent.as_raw_fd()));
                read_xattrs(|| xattr::list_deref(&link), |n| xattr::get_deref(&link, n))
                    .map_err(io_err("read xattrs of", &self.root))
            }
        }
    }

    /// Xattrs of `dir/name`, not following it (symlinks, devices, directories).
    fn xattrs_at(&self, dir: &Dir, name: &OsStr, rel: &Path) -> Result<(Xattrs, bool), ImageError> {
        let path = PathBuf::from(format!("/proc/self/fd/{}", dir.as_raw_fd())).join(name);
        read_xattrs(|| xattr::list(&path), |n| xattr::get(&path, n))
            .map_err(io_err("read xattrs of", &self.root.join(rel)))
    }
}

fn file_xattrs(file: &File) -> io::Result<(Xattrs, bool)> {
    use xattr::FileExt;
    read_xattrs(|| file.list_xattr(), |n| file.get_xattr(n))
}

/// Every xattr but overlayfs' own, sorted by name, and whether overlayfs marked the
/// entry opaque. A file system without xattr support has none.
fn read_xattrs(
    list: impl FnOnce() -> io::Result<xattr::XAttrs>,
    get: impl Fn(&OsStr) -> io::Result<Option<Vec<u8>>>,
) -> io::Result<(Xattrs, bool)> {
    let names = match list() {
        Ok(names) => names,
        Err(e) if e.raw_os_error() == Some(libc::ENOTSUP) => return Ok((Vec::new(), false)),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    let mut opaque = false;
    for name in names {
        let Some(value) = get(&name)? else { continue };
        if is_overlay_xattr(&name) {
            opaque |= name == OPAQUE_XATTR && is_opaque_value(&value);
        } else {
            out.push((name, value));
        }
    }
    out.sort();
    Ok((out, opaque))
}

/// `<len> <key>=<value>\n`, where `<len>` counts the whole record, itself included.
pub(crate) fn pax_record(key: &[u8], value: &[u8]) -> Vec<u8> {
    let rest = key.len() + value.len() + 3; // ' ', '=', '\n'
    let mut len = rest + 1;
    while len != rest + len.to_string().len() {
        len = rest + len.to_string().len();
    }
    let mut out = format!("{len} ").into_bytes();
    out.extend_from_slice(key);
    out.push(b'=');
    out.extend_from_slice(value);
    out.push(b'\n');
    out
}
