//! Copying files between a container and the host (`mdrun cp`), as tar streams,
//! as docker does: out of the container (`CONTAINER:SRC` to a host path or `-`, a tar
//! stream on stdout) and into it (a host path, or `-`: a tar stream on stdin).
//!
//! The container's paths are resolved inside its root, never outside: the root is the
//! init's `/proc/<pid>/root` (its mount namespace's `/`, overlay, volumes and all), or for
//! a container that does not run its layers in an overlay of our own (`cp_stopped.rs`); and
//! every path in it is opened with openat2(RESOLVE_IN_ROOT), so that a symlink the
//! container made (`/evil -> /etc`, `../../..`) resolves as it would inside the
//! container. What is read is walked through directory fds with O_NOFOLLOW
//! (`image::write_dir`); what is written goes through the layer unpacker, which opens
//! every parent with RESOLVE_BENEATH (a symlink pointing out fails, EXDEV) and creates
//! nothing through a symlink (CVE-2018-15664 is this race, in `docker cp`). What comes out
//! onto the host loses what root in the container could turn against it: device nodes,
//! setuid and setgid bits, file capabilities (`image::unpack_on_host`); a tar stream on
//! stdout is left as it is.

use super::cp_stopped::{self, StoppedRoot};
use super::lookup::lookup;
use crate::error::{Error, Result};
use crate::image::{self, Whiteouts};
use crate::paths::Paths;
use crate::state::{Liveness, StateError, Status};
use nix::dir::Dir;
use nix::fcntl::{openat, openat2, AtFlags, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::{fstatat, FileStat, Mode};
use std::ffi::OsStr;
use std::io::{BufWriter, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

/// Where a copy out of a container goes.
pub enum CopyOut<'a> {
    /// A tar stream on this writer (`-`).
    Stream(Box<dyn Write + Send + 'a>),
    /// A host path, as `docker cp` takes it: into it when it is a directory, else as it.
    Host(&'a Path),
}

/// What a copy into a container is made of.
pub enum CopyIn<'a> {
    /// A tar stream (`-`), unpacked into the destination directory.
    Stream(Box<dyn Read + 'a>),
    /// A host file, directory or symlink.
    Host(&'a Path),
}

/// Copy `src` out of the container `query` names.
pub fn copy_out(paths: &Paths, query: &str, src: &str, dest: CopyOut<'_>) -> Result<()> {
    let (root, _stopped) = container_root(paths, query, false)?;
    let (parent, name) = split(src)?;
    let pfd =
        in_root(&root, &parent, OFlag::O_PATH | OFlag::O_DIRECTORY).map_err(not_found(src))?;
    let item = Item::at(pfd, name, src)?;
    match dest {
        CopyOut::Stream(out) => item.write(item.default_prefix(), out),
        CopyOut::Host(dest) => {
            let (dir, prefix) = host_target(dest, item.is_dir(), item.default_prefix())?;
            through_pipe(|w| item.write(prefix, w), &dir, true)
        }
    }
}

/// Copy `src` into the container `query` names, at `dest`.
pub fn copy_in(paths: &Paths, query: &str, src: CopyIn<'_>, dest: &str) -> Result<()> {
    let (root, _stopped) = container_root(paths, query, true)?;
    let dest_path = Path::new(dest);
    let dir_flags = OFlag::O_PATH | OFlag::O_DIRECTORY;
    match src {
        CopyIn::Stream(mut input) => {
            let dir = in_root(&root, dest_path, dir_flags).map_err(|e| {
                Error::Usage(format!(
                    "destination {dest} in the container: {e} (it must be a directory)"
                ))
            })?;
            unpack_into(&mut input, &dir)
        }
        CopyIn::Host(path) => {
            let (parent, name) = split_host(path)?;
            let pfd = nix::fcntl::open(&parent, dir_flags | OFlag::O_CLOEXEC, Mode::empty())
                .map_err(not_found(&path.display().to_string()))?;
            let item = Item::at(pfd, name, &path.display().to_string())?;
            // Into an existing directory; else as `dest` itself, in its parent.
            let (dir, prefix) = match in_root(&root, dest_path, dir_flags) {
                Ok(dir) => (dir, item.default_prefix()),
                Err(e) if dest.ends_with('/') => return Err(not_found(dest)(e)),
                Err(_) => {
                    let (dparent, dname) = split(dest)?;
                    let Some(dname) = dname else {
                        return Err(not_found(dest)(nix::Error::ENOENT));
                    };
                    let dir = in_root(&root, &dparent, dir_flags).map_err(not_found(dest))?;
                    (dir, PathBuf::from(dname))
                }
            };
            let target = fd_path(&dir);
            through_pipe(|w| item.write(prefix, w), &target, false)
        }
    }
}

/// The container's root directory: a running one's as its init sees `/`, a stopped one's
/// as its overlay makes it (`cp_stopped.rs`; kept open, with its lock, by the second value).
fn container_root(
    paths: &Paths,
    query: &str,
    writable: bool,
) -> Result<(OwnedFd, Option<StoppedRoot>)> {
    let (record, liveness) = lookup(paths, query)?;
    if matches!(record.status, Status::Exited | Status::Created) {
        let stopped = cp_stopped::open(paths, &record, writable)?;
        let fd = stopped
            .root
            .try_clone()
            .map_err(|e| io_err("dup", Path::new("the root fd"), e))?;
        return Ok((fd, Some(stopped)));
    }
    let not_running = || StateError::NotRunning {
        name: record.name.clone(),
    };
    if liveness != Liveness::AsRecorded {
        return Err(not_running().into());
    }
    let pid = record.pid.ok_or_else(not_running)?;
    let proc_root = format!("/proc/{pid}/root");
    let fd = nix::fcntl::open(
        proc_root.as_str(),
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| Error::Io {
        step: "open",
        path: proc_root.into(),
        source: e.into(),
    })?;
    // Checked after opening: a pid reused before the open is caught here.
    match record.init_alive() {
        true => Ok((fd, None)),
        false => Err(not_running().into()),
    }
}

/// openat2(root, path, RESOLVE_IN_ROOT): `path` as the container resolves it.
fn in_root(root: &OwnedFd, path: &Path, flags: OFlag) -> nix::Result<OwnedFd> {
    let rel = path.strip_prefix("/").unwrap_or(path);
    let rel = if rel.as_os_str().is_empty() {
        Path::new(".")
    } else {
        rel
    };
    let how = OpenHow::new()
        .flags(flags | OFlag::O_CLOEXEC)
        .resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS);
    loop {
        match openat2(root, rel, how) {
            Err(nix::Error::EAGAIN) => continue,
            other => return other,
        }
    }
}

/// A container path as its parent and last name (None: the root itself).
fn split(path: &str) -> Result<(PathBuf, Option<String>)> {
    let p = Path::new(path);
    if path.is_empty() {
        return Err(Error::Usage("an empty path in the container".into()));
    }
    // `dir/.`: what is in the directory (resolved as a whole, symlinks included).
    if path == "." || path.ends_with("/.") {
        return Ok((p.to_path_buf(), None));
    }
    match p.components().next_back() {
        Some(Component::Normal(name)) => Ok((
            p.parent().unwrap_or(Path::new("/")).to_path_buf(),
            Some(name.to_string_lossy().into_owned()),
        )),
        Some(Component::RootDir) | Some(Component::CurDir) | None => Ok((p.to_path_buf(), None)),
        Some(Component::ParentDir) | Some(Component::Prefix(_)) => Err(Error::Usage(format!(
            "{path}: a path that ends in .. cannot be copied"
        ))),
    }
}

fn split_host(path: &Path) -> Result<(PathBuf, Option<String>)> {
    let abs = match path.is_absolute() {
        true => path.to_path_buf(),
        false => std::env::current_dir()
            .map_err(|e| Error::Io {
                step: "find",
                path: ".".into(),
                source: e,
            })?
            .join(path),
    };
    split(&abs.to_string_lossy())
}

fn not_found(path: &str) -> impl FnOnce(nix::Error) -> Error + '_ {
    move |e| Error::Usage(format!("could not find {path}: {e}"))
}

/// A file, directory or symlink, held by its parent directory and name.
struct Item {
    parent: OwnedFd,
    name: Option<String>,
    st: FileStat,
    shown: String,
}

impl Item {
    fn at(parent: OwnedFd, name: Option<String>, shown: &str) -> Result<Item> {
        let st = match &name {
            Some(n) => fstatat(&parent, n.as_str(), AtFlags::AT_SYMLINK_NOFOLLOW),
            None => nix::sys::stat::fstat(&parent),
        }
        .map_err(not_found(shown))?;
        Ok(Item {
            parent,
            name,
            st,
            shown: shown.to_string(),
        })
    }

    fn kind(&self) -> u32 {
        self.st.st_mode & libc::S_IFMT
    }

    fn is_dir(&self) -> bool {
        self.kind() == libc::S_IFDIR
    }

    /// The name it has in the archive: its own (the root: `.`).
    fn default_prefix(&self) -> PathBuf {
        PathBuf::from(self.name.as_deref().unwrap_or("."))
    }

    /// The item as a tar stream, named `prefix` (a directory: `prefix/...`).
    fn write(&self, prefix: PathBuf, out: Box<dyn Write + Send + '_>) -> Result<()> {
        let shown = Path::new(&self.shown);
        let open = |flags: OFlag| -> nix::Result<OwnedFd> {
            match &self.name {
                Some(n) => openat(
                    &self.parent,
                    n.as_str(),
                    flags | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
                    Mode::empty(),
                ),
                None => openat(&self.parent, ".", flags | OFlag::O_CLOEXEC, Mode::empty()),
            }
        };
        let err = |step: &'static str| {
            move |e: nix::Error| Error::Io {
                step,
                path: shown.to_path_buf(),
                source: e.into(),
            }
        };
        let out = BufWriter::with_capacity(1 << 20, out);
        match self.kind() {
            libc::S_IFDIR => {
                let dir =
                    Dir::from_fd(open(OFlag::O_RDONLY | OFlag::O_DIRECTORY).map_err(err("open"))?)
                        .map_err(err("open"))?;
                let prefix = match prefix == Path::new(".") {
                    true => PathBuf::new(),
                    false => prefix,
                };
                let (mut out, _) = image::write_dir(dir, shown, &prefix, out, false)?;
                out.flush().map_err(|e| io_err("write", shown, e))
            }
            libc::S_IFREG => {
                let name = self.name.as_deref().unwrap_or(".");
                crate::stop_point::reached("tar:file-statted");
                let file =
                    image::open_regular(&self.parent, OsStr::new(name), &self.st).map_err(|e| {
                        match e {
                            nix::Error::ESTALE => Error::Usage(format!(
                                "{}: changed while it was copied (no longer that file)",
                                self.shown
                            )),
                            e => err("open")(e),
                        }
                    })?;
                let mut tar = tar::Builder::new(out);
                let mut header = self.header(tar::EntryType::Regular);
                header.set_size(self.st.st_size as u64);
                tar.append_data(&mut header, &prefix, file)
                    .and_then(|()| tar.into_inner())
                    .and_then(|mut o| o.flush())
                    .map_err(|e| io_err("write an archive of", shown, e))
            }
            libc::S_IFLNK => {
                let name = self.name.as_deref().unwrap_or(".");
                let target = nix::fcntl::readlinkat(&self.parent, name).map_err(err("readlink"))?;
                let mut tar = tar::Builder::new(out);
                let mut header = self.header(tar::EntryType::Symlink);
                tar.append_link(&mut header, &prefix, Path::new(&target))
                    .and_then(|()| tar.into_inner())
                    .and_then(|mut o| o.flush())
                    .map_err(|e| io_err("write an archive of", shown, e))
            }
            _ => Err(Error::Usage(format!(
                "{}: only files, directories and symlinks can be copied",
                self.shown
            ))),
        }
    }

    fn header(&self, kind: tar::EntryType) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(self.st.st_mode & 0o7777);
        h.set_uid(self.st.st_uid as u64);
        h.set_gid(self.st.st_gid as u64);
        h.set_mtime(self.st.st_mtime.max(0) as u64);
        h.set_size(0);
        h
    }
}

fn io_err(step: &'static str, path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        step,
        path: path.to_path_buf(),
        source,
    }
}

/// Where on the host a copy lands: into `dest` when it is a directory (under the item's
/// own name), else as `dest` (its name, in its parent, which must exist).
fn host_target(dest: &Path, src_is_dir: bool, own: PathBuf) -> Result<(PathBuf, PathBuf)> {
    match std::fs::metadata(dest) {
        Ok(m) if m.is_dir() => Ok((dest.to_path_buf(), own)),
        Ok(_) if src_is_dir => Err(Error::Usage(format!(
            "cannot copy a directory to the file {}",
            dest.display()
        ))),
        _ => {
            let (parent, name) = split_host(dest)?;
            let name =
                name.ok_or_else(|| Error::Usage(format!("{}: not a file name", dest.display())))?;
            match std::fs::metadata(&parent) {
                Ok(m) if m.is_dir() => Ok((parent, PathBuf::from(name))),
                _ => Err(Error::Usage(format!(
                    "the directory {} does not exist",
                    parent.display()
                ))),
            }
        }
    }
}

/// `/proc/self/fd/N` of an open directory: the unpacker opens it (following that magic
/// link to exactly this directory) and resolves everything beneath it.
fn fd_path(fd: &OwnedFd) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}

fn unpack_into(input: &mut dyn Read, dir: &OwnedFd) -> Result<()> {
    image::unpack(input, &fd_path(dir), Whiteouts::Literal)?;
    Ok(())
}

/// Run `produce` on one end of a pipe in a thread, and unpack what comes out of the other
/// into `dir`; `to_host`: a copy out of the container, unpacked as `image::unpack_on_host`
/// does (no device nodes, no setuid or setgid bits, no file capabilities).
fn through_pipe(
    produce: impl FnOnce(Box<dyn Write + Send + '_>) -> Result<()> + Send,
    dir: &Path,
    to_host: bool,
) -> Result<()> {
    let (reader, writer) = nix::unistd::pipe2(OFlag::O_CLOEXEC)
        .map_err(|e| io_err("make a pipe for", dir, e.into()))?;
    let (reader, writer) = (std::fs::File::from(reader), std::fs::File::from(writer));
    std::thread::scope(|scope| {
        let producer = scope.spawn(move || produce(Box::new(writer)));
        let mut reader = reader;
        let unpacked = match to_host {
            true => image::unpack_on_host(&mut reader, dir),
            false => image::unpack(&mut reader, dir, Whiteouts::Literal),
        };
        drop(reader);
        let produced = producer
            .join()
            .unwrap_or_else(|_| Err(Error::Usage("the copy thread panicked".into())));
        // A refusal of the producer's says what went wrong first (an archive it left
        // unfinished is the unpacker's complaint); else the unpacker's error (a broken pipe
        // is the producer's complaint).
        if let Err(e @ Error::Usage(_)) = produced {
            return Err(e);
        }
        let unpacked = unpacked?;
        if !unpacked.devices_skipped.is_empty() {
            eprintln!(
                "mdrun: device nodes are not copied to the host; left out: {}",
                unpacked.devices_skipped.join(", ")
            );
        }
        produced
    })
}
