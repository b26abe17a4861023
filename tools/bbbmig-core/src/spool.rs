//! Sorting a stream of records newest first without holding them in memory.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;

/// Serialized records spooled to an anonymous temporary file; only a sort key and a
/// position per record stay in memory (24 bytes).
pub struct SortSpool {
    file: BufWriter<File>,
    len: u64,
    index: Vec<(i64, u64, u32)>,
}

impl SortSpool {
    /// A new, empty spool.
    pub fn new() -> std::io::Result<SortSpool> {
        Ok(SortSpool {
            file: BufWriter::with_capacity(1 << 16, tempfile::tempfile()?),
            len: 0,
            index: Vec::new(),
        })
    }

    /// Adds one serialized line (with its newline) under `key`.
    pub fn push(&mut self, key: i64, line: &[u8]) -> std::io::Result<()> {
        self.file.write_all(line)?;
        let n = u32::try_from(line.len()).map_err(std::io::Error::other)?;
        self.index.push((key, self.len, n));
        self.len += u64::from(n);
        Ok(())
    }

    /// Number of records spooled.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// True when nothing was spooled.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Calls `emit` with each line, largest key first; equal keys keep their arrival order.
    pub fn drain_descending(
        self,
        mut emit: impl FnMut(&[u8]) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let SortSpool {
            file, mut index, ..
        } = self;
        let file = file.into_inner().map_err(|e| e.into_error())?;
        index.sort_by_key(|e| std::cmp::Reverse(e.0));
        let mut buf = Vec::new();
        for (_, off, n) in index {
            buf.resize(n as usize, 0);
            file.read_exact_at(&mut buf, off)?;
            emit(&buf)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drains_newest_first_and_stable() {
        let mut s = SortSpool::new().unwrap();
        s.push(1, b"old\n").unwrap();
        s.push(3, b"new-a\n").unwrap();
        s.push(2, b"mid\n").unwrap();
        s.push(3, b"new-b\n").unwrap();
        let mut out = Vec::new();
        s.drain_descending(|l| {
            out.extend_from_slice(l);
            Ok(())
        })
        .unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "new-a\nnew-b\nmid\nold\n");
    }
}
