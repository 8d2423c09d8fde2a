//! A zstd decoder over ruzstd (pure Rust) for whole files: ruzstd's own `StreamingDecoder`
//! reads a single frame and does not check the content checksum; this reads every frame,
//! skips skippable frames and fails on a checksum mismatch, as `zstd -d` does.

use ruzstd::decoding::errors::{FrameDecoderError, ReadFrameHeaderError};
use ruzstd::decoding::{BlockDecodingStrategy, FrameDecoder};
use std::io::{self, BufRead, Read};

pub(crate) struct ZstdReader<R: BufRead> {
    src: EofTrack<R>,
    frame: FrameDecoder,
    in_frame: bool,
}

impl<R: BufRead> ZstdReader<R> {
    pub(crate) fn new(src: R) -> ZstdReader<R> {
        ZstdReader {
            src: EofTrack {
                inner: src,
                eof: false,
            },
            frame: FrameDecoder::new(),
            in_frame: false,
        }
    }

    /// ruzstd's errors print as debug dumps; say what happened instead.
    fn decode_error(&self, e: FrameDecoderError) -> io::Error {
        if self.src.eof {
            io::Error::new(io::ErrorKind::UnexpectedEof, "zstd stream is truncated")
        } else {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("corrupt zstd data: {e}"),
            )
        }
    }

    /// Starts the next frame; `false` at the end of the input.
    fn next_frame(&mut self) -> io::Result<bool> {
        loop {
            if self.src.fill_buf()?.is_empty() {
                return Ok(false);
            }
            match self.frame.reset(&mut self.src) {
                Ok(()) => return Ok(true),
                Err(FrameDecoderError::ReadFrameHeaderError(ReadFrameHeaderError::SkipFrame {
                    length,
                    ..
                })) => {
                    let skipped =
                        io::copy(&mut (&mut self.src).take(length.into()), &mut io::sink())?;
                    if skipped != u64::from(length) {
                        return Err(corrupt("truncated skippable frame"));
                    }
                }
                Err(e) => return Err(self.decode_error(e)),
            }
        }
    }

    fn check_sum(&self) -> io::Result<()> {
        match (
            self.frame.get_checksum_from_data(),
            self.frame.get_calculated_checksum(),
        ) {
            (Some(stored), Some(computed)) if stored != computed => {
                Err(corrupt("zstd frame checksum mismatch"))
            }
            _ => Ok(()),
        }
    }
}

fn corrupt(what: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

impl<R: BufRead> Read for ZstdReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if !self.in_frame {
                if !self.next_frame()? {
                    return Ok(0);
                }
                self.in_frame = true;
            }
            // Decode until enough is collectable or the frame ends (a block may decode to
            // nothing collectable yet: the decoder keeps a window back).
            while self.frame.can_collect() < buf.len() && !self.frame.is_finished() {
                let wanted = buf.len() - self.frame.can_collect();
                if let Err(e) = self
                    .frame
                    .decode_blocks(&mut self.src, BlockDecodingStrategy::UptoBytes(wanted))
                {
                    return Err(self.decode_error(e));
                }
            }
            let n = self.frame.read(buf)?;
            if n > 0 {
                return Ok(n);
            }
            // Finished and drained: the checksum covers everything collected.
            self.check_sum()?;
            self.in_frame = false;
        }
    }
}

/// Remembers whether the compressed input ran out, to tell truncation from corruption.
struct EofTrack<R> {
    inner: R,
    eof: bool,
}

impl<R: BufRead> Read for EofTrack<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.eof |= n == 0 && !buf.is_empty();
        Ok(n)
    }
}

impl<R: BufRead> BufRead for EofTrack<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        let buf = self.inner.fill_buf()?;
        self.eof |= buf.is_empty();
        Ok(buf)
    }

    fn consume(&mut self, amt: usize) {
        self.inner.consume(amt)
    }
}
