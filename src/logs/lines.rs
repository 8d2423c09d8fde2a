//! Splitting a stream of chunks into lines: what a driver turns into one entry each.

/// Lines longer than this are cut into entries of this size (docker's 16 KiB), so that a
/// stream without newlines cannot grow mdrun's memory without bound.
pub const MAX_LINE: usize = 16 * 1024;

/// A piece of output ready to log: a whole line (without its newline), or a part of one
/// (`partial`: cut at [`MAX_LINE`] or flushed at the end without a newline).
#[derive(Debug, PartialEq, Eq)]
pub struct Line<'a> {
    pub text: &'a [u8],
    pub partial: bool,
}

/// The unfinished line of one stream.
#[derive(Debug, Default)]
pub struct Splitter {
    pending: Vec<u8>,
}

impl Splitter {
    /// Feed a chunk; `emit` gets every line it completes, in order.
    pub fn push(&mut self, mut data: &[u8], emit: &mut dyn FnMut(Line<'_>)) {
        while let Some(nl) = data.iter().position(|&b| b == b'\n') {
            let (head, rest) = (&data[..nl], &data[nl + 1..]);
            if self.pending.is_empty() {
                self.emit_cut(head, false, emit);
            } else {
                self.pending.extend_from_slice(head);
                let line = std::mem::take(&mut self.pending);
                self.emit_cut(&line, false, emit);
            }
            data = rest;
        }
        self.pending.extend_from_slice(data);
        while self.pending.len() >= MAX_LINE {
            let rest = self.pending.split_off(MAX_LINE);
            let full = std::mem::replace(&mut self.pending, rest);
            emit(Line {
                text: &full,
                partial: true,
            });
        }
    }

    /// The stream ended: hand out what is left of the last line.
    pub fn flush(&mut self, emit: &mut dyn FnMut(Line<'_>)) {
        if !self.pending.is_empty() {
            let line = std::mem::take(&mut self.pending);
            emit(Line {
                text: &line,
                partial: true,
            });
        }
    }

    fn emit_cut(&self, mut line: &[u8], partial: bool, emit: &mut dyn FnMut(Line<'_>)) {
        while line.len() > MAX_LINE {
            emit(Line {
                text: &line[..MAX_LINE],
                partial: true,
            });
            line = &line[MAX_LINE..];
        }
        emit(Line {
            text: line,
            partial,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(chunks: &[&[u8]]) -> Vec<(String, bool)> {
        let mut s = Splitter::default();
        let mut out = Vec::new();
        let mut emit =
            |l: Line<'_>| out.push((String::from_utf8_lossy(l.text).into_owned(), l.partial));
        for c in chunks {
            s.push(c, &mut emit);
        }
        s.flush(&mut emit);
        out
    }

    #[test]
    fn lines_split_across_chunks_are_joined() {
        assert_eq!(
            run(&[b"a\nb", b"c\n", b"\nd"]),
            vec![
                ("a".into(), false),
                ("bc".into(), false),
                ("".into(), false),
                ("d".into(), true)
            ]
        );
    }

    #[test]
    fn long_lines_are_cut() {
        let long = vec![b'x'; MAX_LINE * 2 + 5];
        let mut data = long.clone();
        data.push(b'\n');
        let out = run(&[&data[..100], &data[100..]]);
        assert_eq!(out.len(), 3);
        assert!(out[0].1 && out[1].1 && !out[2].1);
        assert_eq!(out.iter().map(|(s, _)| s.len()).sum::<usize>(), long.len());
    }
}
