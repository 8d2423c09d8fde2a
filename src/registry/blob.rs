//! A blob's body as a `Read`: hashed as it streams and checked against its digest at the
//! end (a mismatch is an error, so what was unpacked from it is thrown away), never longer
//! than its descriptor says, and resumed with `Range` when the connection is cut.

use super::client::{backoff, Client, ATTEMPTS};
use sha2::{Digest, Sha256};
use std::io::{self, Read};
use std::sync::{Arc, Mutex};

/// How the blob ended, for the error message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum Outcome {
    #[default]
    Reading,
    Verified,
    /// `sha256:<hex>` of what was received.
    Mismatch(String),
}

pub(crate) struct BlobReader {
    client: Arc<Client>,
    digest: String,
    size: u64,
    got: u64,
    hasher: Sha256,
    body: Option<Box<dyn Read + Send>>,
    cuts: u32,
    outcome: Arc<Mutex<Outcome>>,
    on_bytes: Box<dyn Fn(u64) + Send>,
}

impl BlobReader {
    pub(crate) fn new(
        client: Arc<Client>,
        digest: &str,
        size: u64,
        on_bytes: Box<dyn Fn(u64) + Send>,
    ) -> (BlobReader, Arc<Mutex<Outcome>>) {
        let outcome = Arc::new(Mutex::new(Outcome::Reading));
        let reader = BlobReader {
            client,
            digest: digest.to_string(),
            size,
            got: 0,
            hasher: Sha256::new(),
            body: None,
            cuts: 0,
            outcome: outcome.clone(),
            on_bytes,
        };
        (reader, outcome)
    }

    /// Opens the body at `self.got` (a Range request after a cut).
    fn open(&mut self) -> io::Result<()> {
        let path = self.client.path(&format!("blobs/{}", self.digest));
        let range = format!("bytes={}-", self.got);
        let headers: &[(&str, &str)] = match self.got {
            0 => &[],
            _ => &[("Range", &range)],
        };
        let resp = self
            .client
            .request("GET", &path, headers, None)
            .map_err(io::Error::other)?;
        let full = resp.status() == 200;
        let mut body: Box<dyn Read + Send> = Box::new(resp.into_reader());
        if self.got > 0 && full {
            // A registry that ignores Range sends it all again (200, not 206): skip what
            // we have.
            let skipped = io::copy(&mut (&mut body).take(self.got), &mut io::sink())?;
            if skipped < self.got {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("blob {} is shorter on a second read", self.digest),
                ));
            }
        }
        self.body = Some(body);
        Ok(())
    }

    fn finish(&mut self) -> io::Result<usize> {
        let actual = format!(
            "sha256:{}",
            crate::image::hex(&std::mem::take(&mut self.hasher).finalize())
        );
        let mut outcome = self.outcome.lock().expect("outcome lock");
        if actual == self.digest {
            *outcome = Outcome::Verified;
            Ok(0)
        } else {
            *outcome = Outcome::Mismatch(actual);
            Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("blob {} does not match its digest", self.digest),
            ))
        }
    }
}

impl Read for BlobReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if *self.outcome.lock().expect("outcome lock") != Outcome::Reading {
            return Ok(0);
        }
        loop {
            if self.body.is_none() {
                self.open()?;
            }
            let body = self.body.as_mut().expect("opened");
            // One byte more than it should have, to notice a blob that is too long.
            let room = (self.size - self.got + 1).min(buf.len() as u64) as usize;
            match body.read(&mut buf[..room]) {
                Ok(0) if self.got == self.size => return self.finish(),
                Ok(0) => self.cut(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "blob {} ended after {} of {} bytes",
                        self.digest, self.got, self.size
                    ),
                ))?,
                Ok(n) if self.got + n as u64 > self.size => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "blob {} is longer than its {} bytes",
                            self.digest, self.size
                        ),
                    ))
                }
                Ok(n) => {
                    self.hasher.update(&buf[..n]);
                    self.got += n as u64;
                    (self.on_bytes)(n as u64);
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => self.cut(e)?,
            }
        }
    }
}

impl BlobReader {
    /// The connection was cut: try again from where it stopped, a few times.
    fn cut(&mut self, e: io::Error) -> io::Result<()> {
        self.body = None;
        self.cuts += 1;
        if self.cuts >= ATTEMPTS {
            return Err(e);
        }
        std::thread::sleep(backoff(self.cuts));
        Ok(())
    }
}
