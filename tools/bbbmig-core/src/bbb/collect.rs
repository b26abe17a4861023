//! What bbb-list does with each listed recording: filter, de-duplicate, save raw XML, sort or stream.

use super::recording::{PlaybackForm, effective_state, meta, write_json};
use super::xml::{Recording, Span};
use crate::cli::Out;
use crate::spool::SortSpool;
use anyhow::Context;
use sha1::{Digest, Sha1};
use std::collections::HashSet;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Client-side filters: the same as the server's, applied again so that a saved XML file,
/// a server that ignores a parameter, or Scalelite's OR of `meta_` filters give the
/// answer BBB would.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Wanted states; empty = published and unpublished; `any` = all.
    pub states: Vec<String>,
    pub meeting_ids: Vec<String>,
    pub record_ids: Vec<String>,
    /// All must match; values use BBB's `%` wildcards.
    pub meta: Vec<(String, String)>,
    /// Recordings whose `bbb-origin-server-name` is one of these are skipped.
    pub ignore_origin: Vec<String>,
}

impl Filter {
    /// True when the recording passes every filter.
    pub fn keep(&self, r: &Recording) -> bool {
        let state = effective_state(r);
        let state_ok = if self.states.is_empty() {
            state == "published" || state == "unpublished"
        } else {
            self.states.iter().any(|s| s == "any" || *s == state)
        };
        let rid_ok = self.record_ids.is_empty()
            || self
                .record_ids
                .iter()
                .any(|p| r.record_id.starts_with(p.as_str()));
        let mid_ok = self.meeting_ids.is_empty()
            || self.meeting_ids.iter().any(|m| {
                r.meeting_id.as_deref() == Some(m.as_str())
                    || r.record_id
                        .starts_with(&hex::encode(Sha1::digest(m.as_bytes())))
            });
        let meta_ok = self
            .meta
            .iter()
            .all(|(k, pat)| meta(r, k).is_some_and(|v| wildcard_match(pat, v)));
        let origin = meta(r, "bbb-origin-server-name").unwrap_or("default");
        let origin_ok = !self
            .ignore_origin
            .iter()
            .any(|i| i.eq_ignore_ascii_case(origin));
        state_ok && rid_ok && mid_ok && meta_ok && origin_ok
    }
}

/// BBB's meta filter values: `%x%` contains, `%x` ends with, `x%` starts with, else equal.
pub fn wildcard_match(pat: &str, v: &str) -> bool {
    match (pat.strip_prefix('%'), pat.strip_suffix('%')) {
        (Some(rest), Some(_)) if pat.len() >= 2 => v.contains(&rest[..rest.len() - 1]),
        (Some(rest), None) => v.ends_with(rest),
        (None, Some(rest)) => v.starts_with(rest),
        _ => v == pat,
    }
}

/// Gathers the listed recordings and writes them out.
pub struct Collector {
    filter: Filter,
    server: Option<String>,
    form: PlaybackForm,
    seen: HashSet<String>,
    sort: Option<SortSpool>,
    save: Option<XmlSaver>,
    kept: u64,
    line: Vec<u8>,
}

impl Collector {
    /// `sort` = newest first (spooled), else streamed in server order.
    pub fn new(
        filter: Filter,
        server: Option<String>,
        form: PlaybackForm,
        sort: bool,
        save: Option<&Path>,
    ) -> anyhow::Result<Collector> {
        Ok(Collector {
            filter,
            server,
            form,
            seen: HashSet::new(),
            sort: if sort {
                Some(SortSpool::new().context("cannot create a temporary file to sort in")?)
            } else {
                None
            },
            save: save.map(XmlSaver::create).transpose()?,
            kept: 0,
            line: Vec::with_capacity(4096),
        })
    }

    /// Takes one recording (with its page and span for `--save-xml`).
    pub fn add(
        &mut self,
        rec: Recording,
        page: &mut File,
        span: Span,
        out: &mut Out,
    ) -> anyhow::Result<()> {
        if !self.seen.insert(rec.record_id.clone()) {
            return Ok(());
        }
        if let Some(s) = &mut self.save {
            s.copy(page, span)?;
        }
        if !self.filter.keep(&rec) {
            return Ok(());
        }
        self.kept += 1;
        out.count_for(&rec.record_id, "listed");
        self.line.clear();
        write_json(&rec, self.server.as_deref(), self.form, &mut self.line)?;
        match &mut self.sort {
            Some(spool) => {
                spool
                    .push(rec.start_time.unwrap_or(i64::MIN), &self.line)
                    .context("cannot write the sort spool")?;
                Ok(())
            }
            None => out.emit_raw(&self.line),
        }
    }

    /// Completes the saved XML and writes the sorted records.
    pub fn finish(self, out: &mut Out) -> anyhow::Result<()> {
        if let Some(s) = self.save {
            s.finish()?;
        }
        if let Some(spool) = self.sort {
            // Whole lines in 64 KiB writes: the listing is complete, no need to flush each.
            let mut chunk = Vec::with_capacity(1 << 16);
            spool.drain_descending(|line| {
                chunk.extend_from_slice(line);
                if chunk.len() >= 1 << 16 {
                    out.emit_raw(&chunk)?;
                    chunk.clear();
                }
                Ok(())
            })?;
            if !chunk.is_empty() {
                out.emit_raw(&chunk)?;
            }
        }
        Ok(())
    }
}

/// Writes one getRecordings document holding every listed `<recording>` element as the
/// server sent it; `--from-xml` reads it back. Written to a temporary name and renamed
/// when complete, so an interrupted listing never leaves a partial cache.
struct XmlSaver {
    path: PathBuf,
    tmp: tempfile::NamedTempFile,
    out: BufWriter<File>,
    buf: Vec<u8>,
}

impl XmlSaver {
    fn create(path: &Path) -> anyhow::Result<XmlSaver> {
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let tmp = tempfile::Builder::new()
            .prefix(".bbb-list-")
            .tempfile_in(dir)
            .with_context(|| format!("cannot create a file in {}", dir.display()))?;
        let mut out = BufWriter::new(tmp.reopen()?);
        out.write_all(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<response>\n<returncode>SUCCESS</returncode>\n<recordings>\n")?;
        Ok(XmlSaver {
            path: path.to_path_buf(),
            tmp,
            out,
            buf: Vec::new(),
        })
    }

    fn copy(&mut self, page: &mut File, (a, b): Span) -> anyhow::Result<()> {
        self.buf.resize((b - a) as usize, 0);
        // Positional read: the page's parser shares this file's offset.
        page.read_exact_at(&mut self.buf, a)?;
        self.out.write_all(&self.buf)?;
        self.out
            .write_all(b"\n")
            .with_context(|| format!("cannot write {}", self.path.display()))
    }

    fn finish(mut self) -> anyhow::Result<()> {
        self.out.write_all(b"</recordings>\n</response>\n")?;
        self.out.flush()?;
        self.out.get_ref().sync_all()?;
        self.tmp
            .persist(&self.path)
            .with_context(|| format!("cannot write {}", self.path.display()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bbb_meta_wildcards() {
        assert!(wildcard_match("%ood%", "moodle"));
        assert!(wildcard_match("%dle", "moodle"));
        assert!(wildcard_match("moo%", "moodle"));
        assert!(wildcard_match("moodle", "moodle"));
        assert!(!wildcard_match("mood", "moodle"));
        assert!(!wildcard_match("%x%", "moodle"));
    }

    #[test]
    fn filter_states_meeting_ids_and_origins() {
        let mut r = Recording {
            record_id: format!("{}-1", hex::encode(Sha1::digest(b"CS101"))),
            ..Default::default()
        };
        r.state = Some("processing".into());
        let f = Filter::default();
        assert!(!f.keep(&r));
        r.state = Some("available".into());
        assert!(f.keep(&r));
        let f = Filter {
            meeting_ids: vec!["CS101".into()],
            ..Default::default()
        };
        assert!(f.keep(&r));
        r.metadata
            .push(("bbb-origin-server-name".into(), "gl.example".into()));
        let f = Filter {
            ignore_origin: vec!["gl.example".into()],
            ..Default::default()
        };
        assert!(!f.keep(&r));
    }
}
