//! A reader that refuses XML text or markup runs longer than a limit, so that a hostile
//! answer (a 300 MB text node) fails at once instead of filling memory.

use std::io::{self, BufRead, Read};

/// Longest run of bytes without `<` or `>` (a text node, a tag with its attributes) in a
/// getRecordings answer: real ones hold a few kilobytes at most.
pub const MAX_XML_RUN: usize = 1 << 20;

/// Wraps a [`BufRead`]: reading fails with `InvalidData` once a run of bytes without `<`
/// or `>` would pass `max`.
pub struct Capped<R> {
    inner: R,
    max: usize,
    /// Bytes since the last `<` or `>` consumed.
    run: usize,
    /// Bytes consumed, for the message.
    pos: u64,
    /// A run passed the limit in bytes already handed out: every later read fails.
    over: bool,
}

impl<R: BufRead> Capped<R> {
    /// Caps `inner` at `max` bytes per run.
    pub fn new(inner: R, max: usize) -> Capped<R> {
        Capped {
            inner,
            max,
            run: 0,
            pos: 0,
            over: false,
        }
    }
}

impl<R: BufRead> BufRead for Capped<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        let (run, max, pos, over) = (self.run, self.max, self.pos, self.over);
        let buf = self.inner.fill_buf()?;
        let to_mark = buf
            .iter()
            .position(|&b| b == b'<' || b == b'>')
            .unwrap_or(buf.len());
        if over || run + to_mark > max {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "an XML text or tag longer than {} MiB near byte {pos}: refused (not a real getRecordings answer)",
                    max >> 20
                ),
            ));
        }
        Ok(buf)
    }

    fn consume(&mut self, amt: usize) {
        if let Ok(buf) = self.inner.fill_buf() {
            for &b in &buf[..amt.min(buf.len())] {
                if b == b'<' || b == b'>' {
                    self.run = 0;
                } else {
                    self.run += 1;
                    self.over |= self.run > self.max;
                }
            }
        }
        self.pos += amt as u64;
        self.inner.consume(amt);
    }
}

impl<R: BufRead> Read for Capped<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let buf = self.fill_buf()?;
        let n = buf.len().min(out.len());
        out[..n].copy_from_slice(&buf[..n]);
        self.consume(n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(data: &[u8], max: usize, chunk: usize) -> io::Result<Vec<u8>> {
        let mut r = Capped::new(io::BufReader::with_capacity(chunk, data), max);
        let mut v = Vec::new();
        r.read_to_end(&mut v)?;
        Ok(v)
    }

    #[test]
    fn long_runs_fail_short_ones_pass_whatever_the_chunks() {
        let ok = b"<a>0123456789</a><b x='0123456789'/>";
        let bad = b"<a>012345678901234567</a>";
        for chunk in [1, 3, 7, 64] {
            assert_eq!(read_all(ok, 17, chunk).unwrap(), ok);
            let e = read_all(bad, 17, chunk).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        }
    }
}
