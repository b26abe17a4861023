//! What is already in Pod, read only (`pod-claim --mark-done`): each record's recorder
//! file (the names read once) and external recordings (looked up a batch at a time),
//! added as `pod_done`, which bbb-record and pod-claim pass on without making the video
//! again.

use crate::batch::{self, Pending};
use crate::cli::{Input, Out};
use crate::db::sql::{Db, Value};
use crate::outcome::Status;
use crate::params;
use crate::pod::claim::{Claim, tail};
use crate::pod::import::without_token;
use crate::record::Record;
use crate::timefmt::parse_rfc3339;
use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The key records get.
pub const KEY: &str = "pod_done";

/// Records whose external recordings are looked up with one query.
pub const BATCH: usize = 200;

/// What counts as "already in Pod" (`--mark-done=WHAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Look {
    /// A claimed file or an external recording.
    Any,
    /// Only a file in a recorder folder (waiting to be claimed, or claimed).
    Claimed,
    /// Only an external recording (pod-import).
    Imported,
}

impl Look {
    fn claims(self) -> bool {
        self != Look::Imported
    }
    fn imports(self) -> bool {
        self != Look::Claimed
    }
}

/// The `pod_done` object: where Pod already has the recording.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PodDone {
    /// Its video in a recorder folder (pod-claim).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed: Option<Claimed>,
    /// `import_video_externalrecording.id` of its external recordings (pod-import).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub imported: Vec<i64>,
}

impl PodDone {
    fn is_empty(&self) -> bool {
        self.claimed.is_none() && self.imported.is_empty()
    }
}

/// A recorder file of the recording, as Pod stores it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claimed {
    /// The path as Pod spells it.
    pub file: String,
    /// `recorder_recorder.id` of its recorder.
    pub recorder_id: Option<i64>,
    /// `recorder_recordingfiletreatment.id`: the file waits to be claimed.
    pub treatment_id: Option<i64>,
    /// `recorder_recording.id`: a user claimed it, Pod made it a recording.
    pub recording_id: Option<i64>,
}

/// The `pod_done` object of a record, when it has a non-empty one.
pub fn of(rec: &Record) -> anyhow::Result<Option<PodDone>> {
    Ok(rec.typed::<PodDone>(KEY)?.filter(|d| !d.is_empty()))
}

/// What pod-claim says of a record already in Pod: `exists` with its file (`claimed` once
/// Pod made it a recording, as pod-claim itself says), `skipped` when only imported;
/// `None` for a record to claim.
pub fn claim_of(rec: &Record, recorder_id: i64) -> anyhow::Result<Option<Claim>> {
    let Some(done) = of(rec)? else {
        return Ok(None);
    };
    Ok(Some(match done.claimed {
        Some(c) => Claim {
            status: if c.recording_id.is_some() {
                Status::Claimed
            } else {
                Status::Exists
            },
            file: c.file,
            treatment_id: c.treatment_id,
            bytes: None,
            recorder_id: c.recorder_id.unwrap_or(recorder_id),
        },
        None => {
            log::info!(
                "record {}: in Pod as external recordings {:?} (pod_done); skipped",
                rec.id_for_messages(),
                done.imported
            );
            Claim {
                status: Status::Skipped,
                file: String::new(),
                treatment_id: None,
                bytes: None,
                recorder_id,
            }
        }
    }))
}

/// How one record is recognised in Pod.
struct Key {
    /// `<start>-<ID prefix>.`: its recorder files' names end with this and an extension,
    /// whatever the recording's name (pod-claim's naming, [`tail`]).
    stem: String,
    /// Its source_url without a one-time token (pod-import's rows).
    url: Option<String>,
}

impl Key {
    fn of(rec: &Record) -> anyhow::Result<Key> {
        let record_id = rec.required_str("record_id")?;
        let start_s = rec.required_str("start_time")?;
        let start = parse_rfc3339(start_s)
            .with_context(|| format!("start_time {start_s:?} is not an RFC 3339 date"))?;
        let url = rec
            .str_field("source_url")?
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(without_token);
        Ok(Key {
            stem: tail(start, record_id, ""),
            url,
        })
    }
}

/// The stem of a recorder file pod-claim could have named (`[<slug>-]<stem><ext>`, the
/// stem `YYYY-MM-DD-HHMMSS-<up to 8 of [a-z0-9]>.`), from a path as Pod stores it.
fn stem_of(file: &str) -> Option<&str> {
    let name = file.rsplit('/').next().unwrap_or(file);
    let dot = name.rfind('.').filter(|d| d + 1 < name.len())?;
    let base = &name[..dot];
    let dash = base.rfind('-')?;
    let id = &base[dash + 1..];
    if id.len() > 8
        || !id
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
    {
        return None;
    }
    let start = dash.checked_sub(17)?;
    let date = base.get(start..dash)?.as_bytes();
    let shaped = date.iter().enumerate().all(|(i, b)| match i {
        4 | 7 | 10 => *b == b'-',
        _ => b.is_ascii_digit(),
    });
    let slug_ok = start == 0 || (start >= 2 && base.as_bytes()[start - 1] == b'-');
    (shaped && slug_ok).then(|| &name[start..=dot])
}

/// A row of Pod: which table, the file or URL, its id, its recorder.
struct Found {
    table: i64,
    text: String,
    id: i64,
    recorder_id: Option<i64>,
}

impl Found {
    fn of(r: crate::db::sql::Row) -> Found {
        Found {
            table: r.get(0),
            text: r.get(1),
            id: r.get(2),
            recorder_id: r.get(3),
        }
    }
}

const TREATMENT: i64 = 1;
const RECORDING: i64 = 2;

/// The recorder files (waiting or claimed) by stem, read once: their names can only be
/// matched by their end, which no index serves, so one pass over the two tables beats a
/// scan per batch. Only names of pod-claim's shape are kept.
fn recorder_files(db: &mut Db) -> crate::db::sql::Result<HashMap<String, Vec<Found>>> {
    let shape = "%____-__-__-______-%.%";
    let rows = db.query(
        &format!(
            "SELECT {TREATMENT}, file, id, recorder_id FROM recorder_recordingfiletreatment \
             WHERE file LIKE $1 \
             UNION ALL SELECT {RECORDING}, source_file, id, recorder_id FROM recorder_recording \
             WHERE source_file LIKE $1 ORDER BY 1, 3"
        ),
        params![shape],
    )?;
    let mut by_stem: HashMap<String, Vec<Found>> = HashMap::new();
    for f in rows.into_iter().map(Found::of) {
        if let Some(stem) = stem_of(&f.text) {
            by_stem.entry(stem.to_string()).or_default().push(f);
        }
    }
    Ok(by_stem)
}

/// One query for a batch: the external recordings of the records' source URLs.
fn external_recordings(
    db: &mut Db,
    keyed: &[(Pending, Key)],
) -> crate::db::sql::Result<HashMap<String, Vec<i64>>> {
    let mut urls: Vec<&str> = keyed.iter().filter_map(|(_, k)| k.url.as_deref()).collect();
    urls.sort_unstable();
    urls.dedup();
    let mut by_url: HashMap<String, Vec<i64>> = HashMap::new();
    if urls.is_empty() {
        return Ok(by_url);
    }
    let params: Vec<Value> = urls.iter().map(|u| Value::from(*u)).collect();
    for r in db.query(
        &format!(
            "SELECT source_url, id FROM import_video_externalrecording \
             WHERE source_url IN ({}) ORDER BY id",
            Db::list(1, urls.len())
        ),
        &params,
    )? {
        by_url.entry(r.get(0)).or_default().push(r.get(1));
    }
    Ok(by_url)
}

/// Reads the input a batch at a time and writes every record, with `pod_done` when Pod
/// has it (a stale `pod_done` is removed). Reads only.
pub fn mark(db: &mut Db, look: Look, out: &mut Out, input: &Input) -> anyhow::Result<()> {
    let files = if look.claims() {
        recorder_files(db).map_err(|e| e.for_record("Pod"))?
    } else {
        HashMap::new()
    };
    batch::for_each_batch(out, input, BATCH, |out, batch| {
        let mut keyed = Vec::with_capacity(batch.len());
        for p in batch {
            match Key::of(&p.rec) {
                Ok(k) => keyed.push((p, k)),
                Err(e) => out.fail(p.line, Some(&p.rec), &e)?,
            }
        }
        let imported = if look.imports() {
            match external_recordings(db, &keyed) {
                Ok(f) => f,
                Err(e) => {
                    let e = e.for_record("Pod");
                    if crate::error::is_fatal(&e) {
                        return Err(e);
                    }
                    for (p, _) in &keyed {
                        out.fail(p.line, Some(&p.rec), &e)?;
                    }
                    return Ok(());
                }
            }
        } else {
            HashMap::new()
        };
        for (Pending { mut rec, .. }, key) in keyed {
            let done = PodDone {
                claimed: files.get(&key.stem).and_then(|f| claimed(f)),
                imported: key
                    .url
                    .as_ref()
                    .and_then(|u| imported.get(u))
                    .cloned()
                    .unwrap_or_default(),
            };
            emit(out, &mut rec, done)?;
        }
        Ok(())
    })
}

/// Writes one record with its `pod_done` (or without, when Pod lacks it) and counts it.
fn emit(out: &mut Out, rec: &mut Record, done: PodDone) -> anyhow::Result<()> {
    rec.0.remove(KEY);
    let status = if done.is_empty() {
        Status::NotFound
    } else {
        log::info!(
            "record {}: already in Pod{}{}",
            rec.id_for_messages(),
            done.claimed
                .as_ref()
                .map_or(String::new(), |c| format!(" as {}", c.file)),
            if done.imported.is_empty() {
                String::new()
            } else {
                format!(" (external recordings {:?})", done.imported)
            }
        );
        rec.set_typed(KEY, &done)?;
        Status::Found
    };
    out.emit(rec)?;
    out.count(status.as_str());
    Ok(())
}

/// The claim of a record from its recorder files: the first file found, with its waiting
/// row and its recording (a copy under another name is left out).
fn claimed(files: &[Found]) -> Option<Claimed> {
    let first = files.first()?;
    let mut c = Claimed {
        file: first.text.clone(),
        recorder_id: first.recorder_id,
        treatment_id: None,
        recording_id: None,
    };
    for f in files.iter().filter(|f| f.text == c.file) {
        if f.table == TREATMENT {
            c.treatment_id.get_or_insert(f.id);
        } else {
            c.recording_id.get_or_insert(f.id);
        }
    }
    Some(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorder_files_are_recognised_by_start_and_id_whatever_the_name() {
        let stem = "2024-03-02-090100-183f0bf3.";
        for f in [
            "/data/ftp-pod/ftp/bbb/cours-2024-03-02-090100-183f0bf3.webm",
            "/data/ftp-pod/ftp/bbb/renamed-since-2024-03-02-090100-183f0bf3.mp4",
            "/data/ftp-pod/ftp/bbb/2024-03-02-090100-183f0bf3.m4v",
        ] {
            assert_eq!(stem_of(f), Some(stem), "{f}");
        }
        let t = parse_rfc3339("2024-03-02T09:01:00Z").unwrap();
        assert_eq!(tail(t, "183F0BF3a0982a12-1709370060000", ""), stem);
        // another recording and another start have other stems…
        assert_eq!(
            stem_of("/f/cours-2024-03-02-090100-183f0bf4.webm"),
            Some("2024-03-02-090100-183f0bf4.")
        );
        // …a short ID prefix is whole, never the start of a longer one…
        assert_eq!(
            stem_of("/f/x-2024-03-02-090100-abc.webm"),
            Some("2024-03-02-090100-abc.")
        );
        assert_eq!(
            stem_of("/f/x-2024-03-02-090100-.webm"),
            Some("2024-03-02-090100-.")
        );
        // …and other names have none: ID too long, no extension, a slug glued on, a
        // temporary file, not a date, upper case, a bare dash before
        for f in [
            "/f/cours-2024-03-02-090100-183f0bf3x.webm",
            "/f/cours-2024-03-02-090100-183f0bf3.",
            "/f/cours-2024-03-02-090100-183f0bf3",
            "/f/cours12024-03-02-090100-183f0bf3.webm",
            "/f/cours-2024-03-02-090100-183f0bf3.webm.part",
            "/f/cours-2024-03-02T090100-183f0bf3.webm",
            "/f/cours-2024-03-02-090100-183F0BF3.webm",
            "/f/-2024-03-02-090100-183f0bf3.webm",
            "/f/video.mp4",
        ] {
            assert_eq!(stem_of(f), None, "{f}");
        }
    }

    #[test]
    fn pod_done_keeps_only_what_was_found() {
        let d = PodDone {
            claimed: None,
            imported: vec![4, 9],
        };
        assert_eq!(serde_json::to_string(&d).unwrap(), r#"{"imported":[4,9]}"#);
        let d = PodDone {
            claimed: Some(Claimed {
                file: "/f/x.webm".into(),
                recorder_id: Some(1),
                treatment_id: Some(3),
                recording_id: None,
            }),
            imported: vec![],
        };
        assert_eq!(
            serde_json::to_string(&d).unwrap(),
            r#"{"claimed":{"file":"/f/x.webm","recorder_id":1,"treatment_id":3,"recording_id":null}}"#
        );
        let mut rec = Record::new();
        rec.set(KEY, serde_json::json!({}));
        assert_eq!(of(&rec).unwrap(), None);
    }
}
