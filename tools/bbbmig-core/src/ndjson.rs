//! NDJSON in and out: the one record source (ndjson-stream fed the input in chunks, exact
//! line numbers) and the writer of one flushed line per record.

use crate::record::{Record, kind};
use anyhow::Context;
use ndjson_stream::config::NdjsonConfig;
use ndjson_stream::engine::NdjsonEngine;
use serde_json::Value;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;

/// Bytes handed to the NDJSON engine at a time.
const CHUNK: usize = 1 << 16;
const BOM: &[u8] = b"\xEF\xBB\xBF";
/// Longest input line (one record): far above any real recording (a few kilobytes), low
/// enough that hostile input cannot fill memory. A longer line is fatal.
pub const MAX_LINE: usize = 16 << 20;

/// One input line: its 1-based number and the record, or why it is not a record.
pub struct Item {
    /// 1-based line number in the input.
    pub line: u64,
    /// The record (a previous run's `error` key removed), or a per-record error (valid
    /// JSON of the wrong shape).
    pub record: Result<Record, anyhow::Error>,
}

/// The one record source of every tool: the records of a file or stdin (`-`) with their
/// line numbers. The bytes go to ndjson-stream in chunks; it splits and parses the lines,
/// one result per line, while the reader counts the newlines of each chunk it feeds to
/// know every line's number and which lines are blank (skipped). A UTF-8 BOM at the very
/// start is skipped. A line that is not JSON ends the stream with an error naming the
/// line (the stream is garbled, everything after it is suspect); so does a read error.
pub struct Reader {
    input: Box<dyn Read + Send>,
    engine: NdjsonEngine<Value>,
    chunk: Vec<u8>,
    /// Lines fed to the engine, not handed out yet: is each one blank?
    fed: VecDeque<bool>,
    /// The line being fed (after the last newline) has more than white space.
    partial_has_text: bool,
    /// Bytes of the line being fed so far.
    partial_len: usize,
    /// Number of a line longer than [`MAX_LINE`]: the stream ends there.
    too_long: Option<u64>,
    /// Number of the last line taken from the engine.
    line: u64,
    at_start: bool,
    at_end: bool,
    /// The first bytes of the input, to say what it looks like when it is not NDJSON.
    head: Vec<u8>,
}

/// Bytes of the input's start kept for [`wrong_format_hint`].
const HEAD: usize = 256;

/// What a non-NDJSON input looks like and how to turn it into NDJSON (the one place that
/// knows the usual wrong formats): XML (a saved getRecordings answer), pretty-printed
/// JSON (a record over several lines, as `jq .` prints), a JSON array. `line` is the
/// first line that failed.
pub fn wrong_format_hint(head: &[u8], line: u64) -> &'static str {
    let text = String::from_utf8_lossy(head);
    let t = text.trim_start();
    let first = t.lines().next().unwrap_or_default().trim();
    if t.starts_with('<') {
        "; this looks like XML: bbb-list --from-xml FILE reads a saved getRecordings answer"
    } else if line <= 2 && matches!(first, "{" | "[" | "[{" | "[ {") {
        "; this looks like pretty-printed JSON (one record over several lines): put one \
         record per line with jq -c . FILE (jq -c '.[]' FILE for an array)"
    } else if t.starts_with('[') {
        "; this looks like a JSON array: put one record per line with jq -c '.[]' FILE"
    } else {
        ""
    }
}

impl Reader {
    /// Opens `path`, or stdin for `-`.
    pub fn open(path: &Path) -> anyhow::Result<Reader> {
        if path == Path::new("-") {
            return Ok(Self::from_reader(Box::new(io::stdin())));
        }
        let f = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        Ok(Self::from_reader(Box::new(f)))
    }

    /// Reads from any reader (it is read in large chunks: no need to buffer it).
    pub fn from_reader(input: Box<dyn Read + Send>) -> Reader {
        Reader {
            input,
            // Every line gives one result (blank ones an error that is dropped), so that
            // the n-th result is the n-th line.
            engine: NdjsonEngine::with_config(NdjsonConfig::default().with_parse_rest(true)),
            chunk: vec![0; CHUNK],
            fed: VecDeque::new(),
            partial_has_text: false,
            partial_len: 0,
            too_long: None,
            line: 0,
            at_start: true,
            at_end: false,
            head: Vec::new(),
        }
    }

    /// Reads the next chunk and feeds it to the engine; at the end, the last line if it
    /// has no newline. Read errors are fatal.
    fn feed(&mut self) -> anyhow::Result<()> {
        let mut n = self.read_some(0)?;
        let first = self.at_start;
        if first {
            // Wait for three bytes (any record is at least `{}` and a newline) to see a BOM.
            while n > 0 && n < BOM.len() {
                match self.read_some(n)? {
                    0 => break,
                    more => n += more,
                }
            }
            self.at_start = false;
        }
        if n == 0 {
            self.at_end = true;
            if self.partial_has_text {
                self.engine.finalize();
                self.fed.push_back(false);
            }
            return Ok(());
        }
        let skip = if first && self.chunk[..n].starts_with(BOM) {
            BOM.len()
        } else {
            0
        };
        let data = &self.chunk[skip..n];
        if first {
            self.head = data[..data.len().min(HEAD)].to_vec();
        }
        let mut fed_len = data.len();
        for (i, &b) in data.iter().enumerate() {
            if b == b'\n' {
                self.fed.push_back(!self.partial_has_text);
                self.partial_has_text = false;
                self.partial_len = 0;
                continue;
            }
            self.partial_len += 1;
            if self.partial_len > MAX_LINE {
                // The lines before it are still handed out; then the stream ends.
                self.too_long = Some(self.line + self.fed.len() as u64 + 1);
                fed_len = i;
                break;
            }
            if !b.is_ascii_whitespace() {
                self.partial_has_text = true;
            }
        }
        self.engine.input(&data[..fed_len]);
        Ok(())
    }

    /// Reads into the chunk from `at`; 0 at the end of the input.
    fn read_some(&mut self, at: usize) -> anyhow::Result<usize> {
        loop {
            match self.input.read(&mut self.chunk[at..]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                r => {
                    return r
                        .with_context(|| format!("cannot read input after line {}", self.line));
                }
            }
        }
    }

    /// The next non-blank line, `Ok(None)` at the end, `Err` when the stream is garbled.
    fn next_value(&mut self) -> anyhow::Result<Option<(u64, Value)>> {
        loop {
            let Some(blank) = self.fed.pop_front() else {
                if let Some(n) = self.too_long {
                    anyhow::bail!(
                        "line {n}: longer than {} MiB, the limit of one record; the input stream is garbled",
                        MAX_LINE >> 20
                    );
                }
                if self.at_end {
                    return Ok(None);
                }
                self.feed()?;
                continue;
            };
            let parsed = self.engine.pop().expect("one engine result per fed line");
            self.line += 1;
            match parsed {
                _ if blank => {}
                Ok(v) => return Ok(Some((self.line, v))),
                Err(e) => anyhow::bail!(
                    "line {}: not a JSON record ({e}); the input stream is garbled{}",
                    self.line,
                    wrong_format_hint(&self.head, self.line)
                ),
            }
        }
    }
}

impl Iterator for Reader {
    /// A record or a per-record error; `Err` (the last item) when the input is garbled or
    /// cannot be read.
    type Item = anyhow::Result<Item>;

    fn next(&mut self) -> Option<anyhow::Result<Item>> {
        if self.at_end && self.fed.is_empty() {
            return None;
        }
        let (line, value) = match self.next_value() {
            Ok(Some(v)) => v,
            Ok(None) => return None,
            Err(e) => {
                // Nothing after a garbled line or a read error.
                self.at_end = true;
                self.fed.clear();
                return Some(Err(e));
            }
        };
        let record = match value {
            Value::Object(map) => Ok(strip_old_error(Record(map))),
            other => Err(anyhow::anyhow!(
                "a record must be a JSON object, not {}{}",
                kind(&other),
                wrong_format_hint(&self.head, line)
            )),
        };
        Some(Ok(Item { line, record }))
    }
}

/// Drops an `error` key that a previous `--rejects` wrote (an object with a `tool` key).
fn strip_old_error(mut r: Record) -> Record {
    if r.0.get("error").and_then(|e| e.get("tool")).is_some() {
        r.0.shift_remove("error");
    }
    r
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

    /// Hands out its bytes `step` at a time, as a slow pipe would.
    struct Trickle(&'static [u8], usize);

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.1.min(self.0.len()).min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    /// Line numbers of the records, or the fatal message.
    fn lines(r: Reader) -> Result<Vec<u64>, String> {
        r.map(|i| i.map(|i| i.line).map_err(|e| e.to_string()))
            .collect()
    }

    #[test]
    fn numbers_lines_and_skips_blank_ones() {
        let mut r = reader("{\"a\":1}\n\n  \n{\"b\":2}");
        let first = r.next().unwrap().unwrap();
        assert_eq!(first.line, 1);
        let second = r.next().unwrap().unwrap();
        assert_eq!(second.line, 4);
        assert_eq!(second.record.unwrap().0["b"], 2);
        assert!(r.next().is_none());
    }

    #[test]
    fn line_numbers_do_not_depend_on_chunks() {
        let text = "\u{feff}{\"a\":1}\r\n\t\r\n\n[1]\n{\"b\":2}\n   \n{}\n  ";
        let whole = lines(reader(text)).unwrap();
        assert_eq!(whole, vec![1, 4, 5, 7]);
        for step in 1..8 {
            let r = Reader::from_reader(Box::new(Trickle(text.as_bytes(), step)));
            assert_eq!(lines(r).unwrap(), whole, "{step} bytes at a time");
        }
    }

    #[test]
    fn a_bom_only_at_the_start() {
        let r = reader("\u{feff}{}\n");
        assert_eq!(lines(r).unwrap(), vec![1]);
        let e = lines(reader("{}\n\u{feff}{}\n")).unwrap_err();
        assert!(e.starts_with("line 2: not a JSON record"), "{e}");
        let r = Reader::from_reader(Box::new(Trickle("\u{feff}{}".as_bytes(), 1)));
        assert_eq!(lines(r).unwrap(), vec![1]);
    }

    #[test]
    fn garbled_line_is_fatal_with_its_number_and_ends_the_stream() {
        let mut r = reader("{\"a\":1}\n\n{\"a\":\n{\"b\":1}\n");
        r.next().unwrap().unwrap();
        let e = r.next().unwrap().err().unwrap().to_string();
        assert!(e.starts_with("line 3: not a JSON record"), "{e}");
        assert!(r.next().is_none());
        let e = lines(reader("{}\n{\"a\":")).unwrap_err();
        assert!(e.starts_with("line 2: not a JSON record"), "{e}");
    }

    #[test]
    fn a_read_error_is_fatal() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("EIO"))
            }
        }
        let e = lines(Reader::from_reader(Box::new(Broken))).unwrap_err();
        assert_eq!(e, "cannot read input after line 0");
    }

    #[test]
    fn a_line_over_the_limit_is_fatal_after_the_lines_before_it() {
        let mut text = b"{}\n{\"a\":1}\n{\"x\":\"".to_vec();
        text.resize(text.len() + MAX_LINE, b'x');
        text.extend_from_slice(b"\"}\n{}\n");
        let text: &'static [u8] = Box::leak(text.into_boxed_slice());
        let mut r = Reader::from_reader(Box::new(text));
        assert_eq!(r.next().unwrap().unwrap().line, 1);
        assert_eq!(r.next().unwrap().unwrap().line, 2);
        let e = r.next().unwrap().err().unwrap().to_string();
        assert!(e.starts_with("line 3: longer than 16 MiB"), "{e}");
        assert!(r.next().is_none());
    }

    #[test]
    fn wrong_formats_get_a_hint() {
        assert!(wrong_format_hint(b"<?xml version", 1).contains("--from-xml"));
        assert!(wrong_format_hint(b"{\n  \"record_id\": 1", 1).contains("jq -c ."));
        assert!(wrong_format_hint(b"[{\"a\":1},{\"a\":2}]\n", 1).contains("jq -c '.[]'"));
        assert_eq!(wrong_format_hint(b"{\"a\":1}\n", 5), "");
    }

    #[test]
    fn wrong_shape_is_a_record_error() {
        let mut r = reader("[1,2]\n{\"a\":1}\n");
        assert!(r.next().unwrap().unwrap().record.is_err());
        assert!(r.next().unwrap().unwrap().record.is_ok());
    }

    #[test]
    fn an_old_error_key_is_dropped_another_kept() {
        let mut r =
            reader("{\"a\":1,\"error\":{\"tool\":\"x\",\"line\":3}}\n{\"error\":\"mine\"}\n");
        let first = r.next().unwrap().unwrap().record.unwrap();
        assert_eq!(serde_json::to_string(&first.0).unwrap(), "{\"a\":1}");
        let second = r.next().unwrap().unwrap().record.unwrap();
        assert_eq!(second.0["error"], "mine");
    }

    #[test]
    fn unknown_keys_keep_their_order_and_values() {
        let line = r#"{"z":1,"record_id":"x","x_from_jq":{"a":[1,2]},"n":1.50,"a":null}"#;
        let mut r = Reader::from_reader(Box::new(line.as_bytes()));
        let rec = r.next().unwrap().unwrap().record.unwrap();
        let mut out = Vec::new();
        Writer::new(Box::new(&mut out)).write(&rec).unwrap();
        // serde_json normalises 1.50 to 1.5; every key and its order survive.
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"z\":1,\"record_id\":\"x\",\"x_from_jq\":{\"a\":[1,2]},\"n\":1.5,\"a\":null}\n"
        );
    }
}
