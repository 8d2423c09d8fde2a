//! The input side of an import: detect the compression by its magic bytes, then decompress
//! and hash on a thread of its own, handing the tar stream over in 1 MiB chunks. Reading,
//! inflating and hashing then overlap with writing files (GNU tar gets the same overlap
//! from running `gzip -d` as a second process), and memory stays bounded: at most
//! [`IN_FLIGHT`] chunks exist, whatever the size of the archive.

use super::ImageError;
use sha2::{Digest, Sha256};
use std::io::{self, BufReader, Cursor, Read};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::JoinHandle;

const CHUNK: usize = 1 << 20;
const IN_FLIGHT: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compression {
    None,
    Gzip,
    Zstd,
}

/// Reads the first bytes of `source` to tell its compression; returns a reader that still
/// yields the whole input.
pub(crate) fn detect(
    mut source: Box<dyn Read + Send>,
) -> Result<(Compression, Box<dyn Read + Send>), ImageError> {
    let mut head = [0u8; 6];
    let mut len = 0;
    while len < head.len() {
        match source.read(&mut head[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(ImageError::Archive(e)),
        }
    }
    let head_bytes = &head[..len];
    let compression = match head_bytes {
        [0x1f, 0x8b, ..] => Compression::Gzip,
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Zstd,
        [0xfd, b'7', b'z', b'X', b'Z', 0x00] => {
            return Err(ImageError::UnsupportedCompression("xz"))
        }
        [b'B', b'Z', b'h', ..] => return Err(ImageError::UnsupportedCompression("bzip2")),
        _ => Compression::None,
    };
    let whole = Cursor::new(head_bytes.to_vec()).chain(source);
    Ok((compression, Box::new(whole)))
}

type Chunk = io::Result<(Vec<u8>, usize)>;

/// The receiving end: a `Read` over the chunks, plus the thread that produces them.
pub(crate) struct Pipe {
    reader: ChunkReader,
    producer: JoinHandle<io::Result<[u8; 32]>>,
}

pub(crate) fn spawn(source: Box<dyn Read + Send>, compression: Compression) -> Pipe {
    let (tx, rx) = mpsc::sync_channel::<Chunk>(IN_FLIGHT);
    let (recycle_tx, recycle_rx) = mpsc::channel::<Vec<u8>>();
    let producer = std::thread::spawn(move || {
        let buffered = BufReader::with_capacity(256 << 10, source);
        let decoded: Box<dyn Read> = match compression {
            Compression::None => Box::new(buffered),
            // Multi-member, like `gzip -d`: concatenated .gz files are one stream.
            Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(buffered)),
            // libzstd: every frame, skippable frames skipped, checksums checked. (ruzstd,
            // pure Rust, decoded 2.3x slower here: the decoder thread became the
            // bottleneck of the import.)
            Compression::Zstd => match ::zstd::stream::read::Decoder::with_buffer(buffered) {
                Ok(decoder) => Box::new(decoder),
                Err(e) => return fail(&tx, e),
            },
        };
        produce(decoded, &tx, &recycle_rx)
    });
    let reader = ChunkReader {
        rx,
        recycle: recycle_tx,
        current: Vec::new(),
        len: 0,
        pos: 0,
        failed: false,
    };
    Pipe { reader, producer }
}

fn produce(
    mut src: Box<dyn Read>,
    tx: &SyncSender<Chunk>,
    recycle: &Receiver<Vec<u8>>,
) -> io::Result<[u8; 32]> {
    let mut hasher = Sha256::new();
    loop {
        let mut buf = recycle.try_recv().unwrap_or_else(|_| vec![0u8; CHUNK]);
        let mut len = 0;
        while len < CHUNK {
            match src.read(&mut buf[len..]) {
                Ok(0) => break,
                Ok(n) => len += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return fail(tx, e),
            }
        }
        if len == 0 {
            return Ok(hasher.finalize().into());
        }
        hasher.update(&buf[..len]);
        if tx.send(Ok((buf, len))).is_err() {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "import abandoned",
            ));
        }
    }
}

/// Hands the error to the consumer, which reports it; the thread's result gets a copy.
fn fail(tx: &SyncSender<Chunk>, e: io::Error) -> io::Result<[u8; 32]> {
    let copy = io::Error::new(e.kind(), e.to_string());
    let _ = tx.send(Err(e));
    Err(copy)
}

impl Pipe {
    pub(crate) fn reader(&mut self) -> &mut ChunkReader {
        &mut self.reader
    }

    /// Reads what the tar parser left (the second end block, record padding) so the digest
    /// covers the whole stream and a corrupt tail (bad gzip CRC) is still caught. Returns
    /// the sha256 of the uncompressed stream, hex.
    pub(crate) fn finish(mut self) -> Result<String, ImageError> {
        io::copy(&mut self.reader, &mut io::sink()).map_err(ImageError::Archive)?;
        let digest = self
            .producer
            .join()
            .map_err(|_| ImageError::Archive(io::Error::other("decompression thread panicked")))?
            .map_err(ImageError::Archive)?;
        Ok(digest.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// Gives up: dropping the receiver makes the producer's next send fail and it exits.
    /// It is not joined, since it may be blocked reading a slow stdin.
    pub(crate) fn abandon(self) {}
}

pub(crate) struct ChunkReader {
    rx: Receiver<Chunk>,
    recycle: mpsc::Sender<Vec<u8>>,
    current: Vec<u8>,
    len: usize,
    pos: usize,
    failed: bool,
}

impl Read for ChunkReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.len {
            if self.failed {
                return Err(io::Error::other("the archive stream failed earlier"));
            }
            match self.rx.recv() {
                Ok(Ok((buf, len))) => {
                    let old = std::mem::replace(&mut self.current, buf);
                    if !old.is_empty() {
                        let _ = self.recycle.send(old);
                    }
                    self.len = len;
                    self.pos = 0;
                }
                Ok(Err(e)) => {
                    self.failed = true;
                    return Err(e);
                }
                // The producer hung up after the last chunk: end of stream.
                Err(mpsc::RecvError) => return Ok(0),
            }
        }
        let n = out.len().min(self.len - self.pos);
        out[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    /// Zeros, counting how many bytes were taken.
    struct Counting(Arc<AtomicU64>, u64);

    impl Read for Counting {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = (buf.len() as u64).min(self.1 - self.0.load(Ordering::SeqCst)) as usize;
            buf[..n].fill(0);
            self.0.fetch_add(n as u64, Ordering::SeqCst);
            Ok(n)
        }
    }

    #[test]
    fn the_reader_thread_stops_a_few_chunks_ahead() {
        let total = 16 << 20;
        let taken = Arc::new(AtomicU64::new(0));
        let mut pipe = spawn(Box::new(Counting(taken.clone(), total)), Compression::None);
        // Nobody reads: the thread fills the queue, then must block on it.
        let deadline = Instant::now() + Duration::from_secs(20);
        while taken.load(Ordering::SeqCst) < (IN_FLIGHT * CHUNK) as u64 {
            assert!(Instant::now() < deadline, "the queue never filled");
            std::thread::sleep(Duration::from_millis(10));
        }
        std::thread::sleep(Duration::from_millis(300));
        let ahead = taken.load(Ordering::SeqCst);
        // The queued chunks, plus the one it filled and cannot send.
        assert!(
            ahead <= ((IN_FLIGHT + 1) * CHUNK) as u64,
            "read {ahead} bytes ahead"
        );
        io::copy(pipe.reader(), &mut io::sink()).unwrap();
        let zeros = vec![0u8; total as usize];
        let want: String = Sha256::digest(&zeros)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(pipe.finish().unwrap(), want);
    }
}
