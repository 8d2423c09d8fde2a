//! A bound on what the tar crate reads between two entries it hands the unpacker: their
//! headers, PAX records, GNU long names (which it keeps in memory whole, however large: a
//! gzip layer of 4.6 MB held a 1 GiB PAX record and `import` grew to 1 GiB), and the
//! skipped content of entries that have none of their own (directories, links, nodes).
//! Go's archive/tar (docker, containerd, podman) refuses PAX records and long names over
//! 1 MiB; here all of it between two entries is held to 4 MiB. An entry's own content,
//! which the unpacker streams to disk, does not count.

use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;

pub(crate) const HEADER_BUDGET: u64 = 4 << 20;

pub(crate) struct HeaderBudget {
    /// Bytes read since the unpacker last finished an entry.
    pub used: Cell<u64>,
    /// False while the unpacker reads an entry's content.
    pub counting: Cell<bool>,
}

impl Default for HeaderBudget {
    fn default() -> Self {
        HeaderBudget {
            used: Cell::new(0),
            counting: Cell::new(true),
        }
    }
}

/// The unpacker's input: notes a plain EOF (a truncated archive), and counts against the
/// budget.
pub(crate) struct EofWatch<'a> {
    pub inner: &'a mut dyn Read,
    pub hit_eof: bool,
    pub budget: Rc<HeaderBudget>,
}

impl Read for EofWatch<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hit_eof |= n == 0 && !buf.is_empty();
        let b = &self.budget;
        if b.counting.get() {
            b.used.set(b.used.get() + n as u64);
            if b.used.get() > HEADER_BUDGET {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "a tar header (PAX records, long name) over 4 MiB",
                ));
            }
        }
        Ok(n)
    }
}
