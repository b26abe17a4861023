//! NDJSON in and out: numbered input lines parsed with ndjson-stream, one flushed line per record.

use crate::record::{Record, kind};
use anyhow::Context;
use ndjson_stream::config::{EmptyLineHandling, NdjsonConfig};
use ndjson_stream::engine::NdjsonEngine;
use serde_json::Value;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;

/// One input line: its 1-based number and the record, or why it is not a record.
pub struct Item {
    /// 1-based line number in the input.
    pub line: u64,
    /// The record, or a per-record error (valid JSON of the wrong shape).
    pub record: Result<Record, anyhow::Error>,
}

/// Reads NDJSON records from a file or stdin (`-`). Blank lines are skipped; a line that
/// is not JSON ends the stream with an error naming the line (the stream is garbled).
pub struct Reader {
    input: Box<dyn BufRead>,
    line: u64,
    buf: Vec<u8>,
    engine: NdjsonEngine<Value>,
}

impl Reader {
    /// Opens `path`, or stdin for `-`.
    pub fn open(path: &Path) -> anyhow::Result<Reader> {
        let input: Box<dyn BufRead> = if path == Path::new("-") {
            Box::new(BufReader::with_capacity(1 << 16, io::stdin()))
        } else {
            let f = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
            Box::new(BufReader::with_capacity(1 << 16, f))
        };
        Ok(Self::from_reader(input))
    }

    /// Reads from any buffered reader.
    pub fn from_reader(input: Box<dyn BufRead>) -> Reader {
        Reader {
            input,
            line: 0,
            buf: Vec::new(),
            engine: NdjsonEngine::with_config(
                NdjsonConfig::default().with_empty_line_handling(EmptyLineHandling::IgnoreBlank),
            ),
        }
    }

    /// The next record, `Ok(None)` at the end, `Err` when the stream is garbled or unreadable.
    pub fn next_item(&mut self) -> anyhow::Result<Option<Item>> {
        loop {
            self.buf.clear();
            let n = self
                .input
                .read_until(b'\n', &mut self.buf)
                .with_context(|| format!("cannot read input after line {}", self.line))?;
            if n == 0 {
                return Ok(None);
            }
            self.line += 1;
            if !self.buf.ends_with(b"\n") {
                self.buf.push(b'\n');
            }
            self.engine.input(&self.buf[..]);
            match self.engine.pop() {
                None => continue, // blank line
                Some(Err(e)) => {
                    anyhow::bail!(
                        "line {}: not a JSON record ({e}); the input stream is garbled",
                        self.line
                    )
                }
                Some(Ok(Value::Object(map))) => {
                    return Ok(Some(Item {
                        line: self.line,
                        record: Ok(Record(map)),
                    }));
                }
                Some(Ok(other)) => {
                    let e = anyhow::anyhow!("a record must be a JSON object, not {}", kind(&other));
                    return Ok(Some(Item {
                        line: self.line,
                        record: Err(e),
                    }));
                }
            }
        }
    }
}

/// Writes records as NDJSON: one complete line per record, flushed at once so the next
/// stage of the pipeline sees it. A closed pipe surfaces as an `io::ErrorKind::BrokenPipe`.
pub struct Writer<'a> {
    out: Box<dyn Write + 'a>,
    buf: Vec<u8>,
}

impl<'a> Writer<'a> {
    /// Writes to stdout.
    pub fn stdout() -> Writer<'static> {
        Writer::new(Box::new(io::stdout()))
    }

    /// Writes to any writer.
    pub fn new(out: Box<dyn Write + 'a>) -> Writer<'a> {
        Writer {
            out,
            buf: Vec::with_capacity(4096),
        }
    }

    /// Writes one record as one line and flushes it.
    pub fn write(&mut self, rec: &Record) -> io::Result<()> {
        self.buf.clear();
        serde_json::to_writer(&mut self.buf, &rec.0).map_err(io::Error::other)?;
        self.buf.push(b'\n');
        let buf = std::mem::take(&mut self.buf);
        let res = self.write_raw(&buf);
        self.buf = buf;
        res
    }

    /// Writes an already serialized line (must end with a newline) and flushes it.
    pub fn write_raw(&mut self, line: &[u8]) -> io::Result<()> {
        self.out.write_all(line)?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(s: &'static str) -> Reader {
        Reader::from_reader(Box::new(s.as_bytes()))
    }

    #[test]
    fn numbers_lines_and_skips_blank_ones() {
        let mut r = reader("{\"a\":1}\n\n  \n{\"b\":2}");
        let first = r.next_item().unwrap().unwrap();
        assert_eq!(first.line, 1);
        let second = r.next_item().unwrap().unwrap();
        assert_eq!(second.line, 4);
        assert_eq!(second.record.unwrap().0["b"], 2);
        assert!(r.next_item().unwrap().is_none());
    }

    #[test]
    fn garbled_line_is_fatal_with_its_number() {
        let mut r = reader("{\"a\":1}\n{\"a\":\n");
        r.next_item().unwrap();
        let e = r.next_item().err().unwrap().to_string();
        assert!(e.starts_with("line 2: not a JSON record"), "{e}");
    }

    #[test]
    fn wrong_shape_is_a_record_error() {
        let mut r = reader("[1,2]\n{\"a\":1}\n");
        assert!(r.next_item().unwrap().unwrap().record.is_err());
        assert!(r.next_item().unwrap().unwrap().record.is_ok());
    }

    #[test]
    fn unknown_keys_keep_their_order_and_values() {
        let line = r#"{"z":1,"record_id":"x","x_from_jq":{"a":[1,2]},"n":1.50,"a":null}"#;
        let mut r = Reader::from_reader(Box::new(line.as_bytes()));
        let rec = r.next_item().unwrap().unwrap().record.unwrap();
        let mut out = Vec::new();
        Writer::new(Box::new(&mut out)).write(&rec).unwrap();
        // serde_json normalises 1.50 to 1.5; every key and its order survive.
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"z\":1,\"record_id\":\"x\",\"x_from_jq\":{\"a\":[1,2]},\"n\":1.5,\"a\":null}\n"
        );
    }
}
