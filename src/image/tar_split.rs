//! Tar-split: a layer's tar stream as it came, without its file content, so that the very
//! same bytes (and so the same digest, the layer's id and diff_id) can be written again
//! from the unpacked layer: for `save` and `push` of an image that was imported, loaded or
//! pulled. containers/storage keeps the same thing for the same reason (its `tar-split`
//! package); the image's id, its config's digest, then stays the same through save, load,
//! push and pull.
//!
//! While a layer is unpacked, [`Tee`] passes every byte of the stream to a [`Recorder`]:
//! headers, PAX and long-name records, padding and the end-of-archive blocks are kept as
//! they are (`R`), a regular file's content only as its path in the layer and its size
//! (`F`). The record is zstd-compressed (headers compress well: a few KB per thousand
//! files) and stored as `<root>/tar-split/<layer-id>` beside the layer.
//!
//! Writing it back ([`write`]) copies the kept bytes and reads each file's content from the
//! layer, beneath its root. Whoever uses it checks the digest of what it wrote against the
//! layer's id: a layer whose tar had the same path twice (the later file's content then
//! stands for both) gives another digest, and the caller falls back to `layer_tar`.

use super::files::io_err;
use super::fsops::open_beneath;
use super::ImageError;
use nix::fcntl::OFlag;
use std::cell::RefCell;
use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::rc::Rc;

const MAGIC: &[u8] = b"mdrun-tar-split-1\n";

/// Collects the record while a layer is unpacked.
pub(crate) struct Recorder {
    out: zstd::Encoder<'static, Vec<u8>>,
    /// Bytes of the stream seen so far.
    pos: u64,
    /// File content being passed over: `[start, end)` of the stream.
    skip: Option<(u64, u64)>,
    /// Something did not add up (an entry's content was not where the header said): the
    /// record is dropped, and the layer is written with `layer_tar`.
    broken: bool,
    failed: Option<io::Error>,
}

impl Recorder {
    pub(crate) fn new() -> Rc<RefCell<Recorder>> {
        let mut out = zstd::Encoder::new(Vec::new(), 3).expect("a zstd encoder in memory");
        let failed = out.write_all(MAGIC).err();
        Rc::new(RefCell::new(Recorder {
            out,
            pos: 0,
            skip: None,
            broken: false,
            failed,
        }))
    }

    fn raw(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let mut record = Vec::with_capacity(9);
        record.push(b'R');
        record.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        if let Err(e) = self
            .out
            .write_all(&record)
            .and_then(|_| self.out.write_all(bytes))
        {
            self.failed.get_or_insert(e);
        }
    }

    fn feed(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            match self.skip {
                Some((start, end)) if self.pos >= start => {
                    let take = (end - self.pos).min(bytes.len() as u64) as usize;
                    self.pos += take as u64;
                    bytes = &bytes[take..];
                    if self.pos == end {
                        self.skip = None;
                    }
                }
                Some((start, _)) => {
                    let take = (start - self.pos).min(bytes.len() as u64) as usize;
                    self.raw(&bytes[..take]);
                    self.pos += take as u64;
                    bytes = &bytes[take..];
                }
                None => {
                    self.raw(bytes);
                    self.pos += bytes.len() as u64;
                    bytes = &[];
                }
            }
        }
    }

    /// The content of the regular file `rel` (`size` bytes at `file_pos` of the stream)
    /// is about to be read: it is recorded by its path, not kept.
    pub(crate) fn file(&mut self, file_pos: u64, size: u64, rel: &Path) {
        if self.pos != file_pos || self.skip.is_some() {
            self.broken = true;
            return;
        }
        let path = rel.as_os_str().as_bytes();
        let mut record = Vec::with_capacity(13 + path.len());
        record.push(b'F');
        record.extend_from_slice(&(path.len() as u32).to_le_bytes());
        record.extend_from_slice(path);
        record.extend_from_slice(&size.to_le_bytes());
        if let Err(e) = self.out.write_all(&record) {
            self.failed.get_or_insert(e);
        }
        if size > 0 {
            self.skip = Some((file_pos, file_pos + size));
        }
    }

    /// The compressed record, or None when it could not be made faithfully.
    pub(crate) fn finish(this: Rc<RefCell<Recorder>>) -> Option<Vec<u8>> {
        let recorder = Rc::try_unwrap(this).ok()?.into_inner();
        if recorder.broken || recorder.failed.is_some() || recorder.skip.is_some() {
            return None;
        }
        recorder.out.finish().ok()
    }
}

/// A reader that shows every byte it passes on to a [`Recorder`].
pub(crate) struct Tee<R> {
    pub inner: R,
    pub recorder: Option<Rc<RefCell<Recorder>>>,
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(r) = &self.recorder {
            r.borrow_mut().feed(&buf[..n]);
        }
        Ok(n)
    }
}

/// Writes the layer `layer_dir` as the tar stream the record `split` (a file) describes.
pub(crate) fn write(split: &Path, layer_dir: &Path, out: &mut dyn Write) -> Result<(), ImageError> {
    let file = File::open(split).map_err(io_err("open", split))?;
    let mut input = zstd::Decoder::new(file).map_err(io_err("read", split))?;
    let bad = |what: &str| ImageError::Io {
        step: "read",
        path: split.to_path_buf(),
        source: io::Error::new(io::ErrorKind::InvalidData, what.to_string()),
    };
    let mut magic = [0u8; MAGIC.len()];
    input
        .read_exact(&mut magic)
        .map_err(io_err("read", split))?;
    if magic != MAGIC {
        return Err(bad("not a tar-split record"));
    }
    let root: OwnedFd = nix::fcntl::open(
        layer_dir,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .map_err(|e| io_err("open", layer_dir)(e.into()))?;
    let write_err = |e| ImageError::Io {
        step: "write the tar stream of",
        path: layer_dir.to_path_buf(),
        source: e,
    };
    let mut tag = [0u8; 1];
    loop {
        match input.read(&mut tag) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io_err("read", split)(e)),
        }
        match tag[0] {
            b'R' => {
                let len = read_u64(&mut input).map_err(io_err("read", split))?;
                let copied = io::copy(&mut (&mut input).take(len), out).map_err(write_err)?;
                if copied != len {
                    return Err(bad("the record ends early"));
                }
            }
            b'F' => {
                let mut len = [0u8; 4];
                input.read_exact(&mut len).map_err(io_err("read", split))?;
                let mut path = vec![0u8; u32::from_le_bytes(len) as usize];
                input.read_exact(&mut path).map_err(io_err("read", split))?;
                let size = read_u64(&mut input).map_err(io_err("read", split))?;
                let rel = Path::new(std::ffi::OsStr::from_bytes(&path));
                let full = layer_dir.join(rel);
                let flags = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_NOATIME;
                let fd = open_beneath(&root, rel, flags)
                    .or_else(|_| open_beneath(&root, rel, OFlag::O_RDONLY | OFlag::O_NOFOLLOW))
                    .map_err(|e| io_err("open", &full)(e.into()))?;
                let mut content = BufReader::with_capacity(256 << 10, File::from(fd)).take(size);
                let copied = io::copy(&mut content, out).map_err(write_err)?;
                if copied != size {
                    return Err(io_err("read", &full)(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("{copied} bytes, the layer's tar had {size}"),
                    )));
                }
            }
            _ => return Err(bad("an unknown record")),
        }
    }
}

fn read_u64(input: &mut impl Read) -> io::Result<u64> {
    let mut b = [0u8; 8];
    input.read_exact(&mut b)?;
    Ok(u64::from_le_bytes(b))
}
