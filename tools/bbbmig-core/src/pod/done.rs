//! What is already in Pod, read only (`pod-claim --mark-done`): each record's claimed file
//! and external recordings, looked up a batch at a time, added as `pod_done`, which
//! bbb-record and pod-claim pass through without making the video again.

use crate::batch::{self, Pending};
use crate::cli::{Input, Out};
use crate::db::sql::{Db, Value};
use crate::outcome::Status;
use crate::pod::claim::{Claim, tail};
use crate::pod::import::without_token;
use crate::record::Record;
use crate::timefmt::parse_rfc3339;
use anyhow::Context;
use serde::{Deserialize, Serialize};

/// The key records get.
pub const KEY: &str = "pod_done";

/// Records looked up with one query (two placeholders each at most).
pub const BATCH: usize = 200;

/// What counts as "already in Pod" (`--mark-done WHAT`).
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

/// What pod-claim says of a record already in Pod: `exists` with its file when claimed,
/// `skipped` when only imported; `None` for a record to claim.
pub fn claim_of(rec: &Record, recorder_id: i64) -> anyhow::Result<Option<Claim>> {
    let Some(done) = of(rec)? else {
        return Ok(None);
    };
    Ok(Some(match done.claimed {
        Some(c) => Claim {
            status: Status::Exists,
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
    /// whatever the recording's name (pod-claim's naming).
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

    /// Whether `file` (a path as Pod stores it) is a recorder file of this record:
    /// `[<slug>-]<stem><ext>`, the extension without dots.
    fn names(&self, file: &str) -> bool {
        let name = file.rsplit('/').next().unwrap_or(file);
        let Some(rest) = name
            .rfind('.')
            .filter(|d| d + 1 < name.len())
            .map(|d| &name[..=d])
        else {
            return false; // no extension
        };
        rest == self.stem
            || rest
                .strip_suffix(self.stem.as_str())
                .is_some_and(|slug| slug.ends_with('-') && slug.len() > 1)
    }
}

/// One row found: which table, the file or URL, its id, its recorder.
struct Found {
    table: i64,
    text: String,
    id: i64,
    recorder_id: Option<i64>,
}

const TREATMENT: i64 = 1;
const RECORDING: i64 = 2;
const EXTERNAL: i64 = 3;

/// Reads the input a batch at a time and writes every record, with `pod_done` when Pod
/// has it (a stale `pod_done` is removed). Reads only.
pub fn mark(db: &mut Db, look: Look, out: &mut Out, input: &Input) -> anyhow::Result<()> {
    batch::for_each_batch(out, input, BATCH, |out, batch| {
        let mut keyed = Vec::with_capacity(batch.len());
        for p in batch {
            match Key::of(&p.rec) {
                Ok(k) => keyed.push((p, k)),
                Err(e) => out.fail(p.line, Some(&p.rec), &e)?,
            }
        }
        let found = match lookup(db, look, &keyed) {
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
        };
        for (Pending { mut rec, .. }, key) in keyed {
            let done = describe(&key, &found);
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
            out.emit(&rec)?;
            out.count(status.as_str());
        }
        Ok(())
    })
}

/// One query for the whole batch: the recorder files whose names end as one of the
/// records' would, and the external recordings of their source URLs.
fn lookup(db: &mut Db, look: Look, keyed: &[(Pending, Key)]) -> crate::db::sql::Result<Vec<Found>> {
    let mut params: Vec<Value> = Vec::new();
    let mut parts = Vec::new();
    if look.claims() && !keyed.is_empty() {
        // `%` and `_` never occur in a stem (digits, ASCII letters and dashes).
        params.extend(
            keyed
                .iter()
                .map(|(_, k)| Value::from(format!("%{}%", k.stem))),
        );
        let likes = |col: &str| {
            (1..=keyed.len())
                .map(|i| format!("{col} LIKE ${i}"))
                .collect::<Vec<_>>()
                .join(" OR ")
        };
        parts.push(format!(
            "SELECT {TREATMENT}, file, id, recorder_id FROM recorder_recordingfiletreatment WHERE {}",
            likes("file")
        ));
        parts.push(format!(
            "SELECT {RECORDING}, source_file, id, recorder_id FROM recorder_recording WHERE {}",
            likes("source_file")
        ));
    }
    if look.imports() {
        let mut urls: Vec<&str> = keyed.iter().filter_map(|(_, k)| k.url.as_deref()).collect();
        urls.sort_unstable();
        urls.dedup();
        if !urls.is_empty() {
            let first = params.len() + 1;
            params.extend(urls.iter().map(|u| Value::from(*u)));
            parts.push(format!(
                "SELECT {EXTERNAL}, source_url, id, NULL FROM import_video_externalrecording \
                 WHERE source_url IN ({})",
                Db::list(first, urls.len())
            ));
        }
    }
    if parts.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("{} ORDER BY 1, 3", parts.join(" UNION ALL "));
    Ok(db
        .query(&sql, &params)?
        .into_iter()
        .map(|r| Found {
            table: r.get(0),
            text: r.get(1),
            id: r.get(2),
            recorder_id: r.get(3),
        })
        .collect())
}

/// The `pod_done` object of one record from the rows of its batch.
fn describe(key: &Key, found: &[Found]) -> PodDone {
    let mut done = PodDone::default();
    for f in found {
        match f.table {
            EXTERNAL if key.url.as_deref() == Some(f.text.as_str()) => done.imported.push(f.id),
            TREATMENT | RECORDING if key.names(&f.text) => {
                let c = done.claimed.get_or_insert_with(|| Claimed {
                    file: f.text.clone(),
                    recorder_id: f.recorder_id,
                    treatment_id: None,
                    recording_id: None,
                });
                if c.file != f.text {
                    continue; // another copy of it: the first file found is its claim
                }
                if f.table == TREATMENT {
                    c.treatment_id.get_or_insert(f.id);
                } else {
                    c.recording_id.get_or_insert(f.id);
                }
            }
            _ => {}
        }
    }
    done
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(stem: &str) -> Key {
        Key {
            stem: stem.to_string(),
            url: None,
        }
    }

    #[test]
    fn recorder_files_are_recognised_by_start_and_id_whatever_the_name() {
        let k = key("2024-03-02-090100-183f0bf3.");
        assert!(k.names("/data/ftp-pod/ftp/bbb/cours-2024-03-02-090100-183f0bf3.webm"));
        assert!(k.names("/data/ftp-pod/ftp/bbb/renamed-since-2024-03-02-090100-183f0bf3.mp4"));
        assert!(k.names("/data/ftp-pod/ftp/bbb/2024-03-02-090100-183f0bf3.m4v"));
        // another recording, another start, a longer ID prefix, no extension, a slug glued on
        assert!(!k.names("/f/cours-2024-03-02-090100-183f0bf4.webm"));
        assert!(!k.names("/f/cours-2024-03-02-090101-183f0bf3.webm"));
        assert!(!k.names("/f/cours-2024-03-02-090100-183f0bf3x.webm"));
        assert!(!k.names("/f/cours-2024-03-02-090100-183f0bf3."));
        assert!(!k.names("/f/cours12024-03-02-090100-183f0bf3.webm"));
        assert!(!k.names("/f/cours-2024-03-02-090100-183f0bf3.webm.part"));
        let short = key("2024-03-02-090100-abc.");
        assert!(!short.names("/f/x-2024-03-02-090100-abcdefgh.webm"));
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
