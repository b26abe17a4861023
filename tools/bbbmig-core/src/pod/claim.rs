//! Manual claim: places each recording's video in a Pod recorder folder under a unique,
//! readable name (never overwriting, atomically), then inserts the
//! `recorder_recordingfiletreatment` row that makes it claimable at once (the moved
//! video's source removed only once that row is committed).

use crate::db::sql::Db;
use crate::error::fatal;
use crate::outcome::Status;
use crate::params;
use crate::pod::column_len;
use crate::pod::commit::Tx;
use crate::pod::lock::lock_for_write;
use crate::pod::owner::{self, Owner, owner};
use crate::record::Record;
use crate::timefmt::parse_rfc3339;
use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use unicode_normalization::UnicodeNormalization;

/// Pod's default VIDEO_ALLOWED_EXTENSIONS: the recorder job ignores other files.
pub const ALLOWED_EXTENSIONS: &[&str] = &[
    "3gp", "avi", "divx", "flv", "m2p", "m4v", "mkv", "mov", "mp4", "mpeg", "mpg", "mts", "wmv",
    "mp3", "ogg", "wav", "wma", "webm", "ts",
];

/// Settings of a run.
#[derive(Debug, Clone)]
pub struct ClaimOptions {
    /// `recorder_recorder.id` of a recorder without manager.
    pub recorder_id: i64,
    /// Pod's DEFAULT_RECORDER_PATH, as Pod's settings spell it.
    pub recorder_root: PathBuf,
    /// The site whose users will claim the files.
    pub site_id: i32,
    /// Copy the video instead of moving it.
    pub copy: bool,
    /// Read everything, write nothing.
    pub dry_run: bool,
}

/// The recorder as checked at start.
#[derive(Debug, Clone)]
pub struct Recorder {
    /// `recorder_recorder.id`.
    pub id: i64,
    /// `recorder_recorder.recording_type`, copied into each row's `type`.
    pub recording_type: String,
    /// Its folder on disk.
    pub folder: PathBuf,
    /// The folder as Pod spells it, ending in `/` (DEFAULT_RECORDER_PATH + directory + `/`).
    pub prefix: String,
}

/// Checks the recorder and its folder; every failure here is fatal.
pub fn check_recorder(db: &mut Db, o: &ClaimOptions) -> anyhow::Result<Recorder> {
    let Some(r) = db.query_opt(
        "SELECT directory, recording_type, user_id FROM recorder_recorder WHERE id = $1",
        params![o.recorder_id],
    )?
    else {
        bail!(
            "no recorder with id {} in recorder_recorder: create one in Pod's admin",
            o.recorder_id
        );
    };
    let (directory, recording_type, manager): (String, String, Option<i32>) =
        (r.get(0), r.get(1), r.get(2));
    if let Some(m) = manager {
        bail!(
            "recorder {} has a manager (auth_user id {m}): Pod would hand every file to that manager \
             instead of letting users claim it; use a recorder without manager",
            o.recorder_id
        );
    }
    let linked = db.query_opt(
        "SELECT 1 FROM recorder_recorder_sites WHERE recorder_id = $1 AND site_id = $2",
        params![o.recorder_id, o.site_id],
    )?;
    if linked.is_none() {
        bail!(
            "recorder {} is not linked to site {}: Pod lists only files of the site's recorders",
            o.recorder_id,
            o.site_id
        );
    }
    let root = o
        .recorder_root
        .to_str()
        .context("--recorder-root is not UTF-8")?;
    if !root.starts_with('/') {
        bail!("--recorder-root must be absolute, spelled as Pod's DEFAULT_RECORDER_PATH");
    }
    if directory.is_empty() || directory.contains('/') || directory == "." || directory == ".." {
        bail!(
            "recorder {} has an unusable directory {directory:?}",
            o.recorder_id
        );
    }
    let mut base = root.to_string();
    if !base.ends_with('/') {
        base.push('/');
    }
    let folder = PathBuf::from(format!("{base}{directory}"));
    if !folder.is_dir() {
        bail!(
            "the recorder folder {} does not exist (DEFAULT_RECORDER_PATH + directory): create it or fix --recorder-root",
            folder.display()
        );
    }
    let probe = folder.join(format!(".pod-claim-check-{}", std::process::id()));
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .with_context(|| format!("the recorder folder {} is not writable", folder.display()))?;
    let _ = fs::remove_file(&probe);
    Ok(Recorder {
        id: o.recorder_id,
        recording_type,
        prefix: format!("{}/", folder.display()),
        folder,
    })
}

/// The `pod_claim` object a record gets.
#[derive(Debug, Clone, Serialize)]
pub struct Claim {
    /// `claimed`, `exists`, `dry-run` or `created`.
    pub status: Status,
    /// The file's path as Pod spells it (`recorder_recordingfiletreatment.file`).
    pub file: String,
    /// `recorder_recordingfiletreatment.id`, when there is a row.
    pub treatment_id: Option<i64>,
    /// Size of the placed (or to be placed) file.
    pub bytes: Option<u64>,
    /// `recorder_recorder.id`.
    pub recorder_id: i64,
}

/// Where one record's video comes from and goes.
struct Target {
    record_id: String,
    /// The end of its file name, the same whatever the recording's name ([`tail`]).
    tail: String,
    source: PathBuf,
    /// `video.bytes` of the record, when given.
    expected: Option<u64>,
    start: DateTime<Utc>,
    file_name: String,
    /// The path as Pod spells it.
    pod_path: String,
    final_path: PathBuf,
}

/// Places videos and inserts claim rows, one record at a time.
pub struct Claimer {
    opts: ClaimOptions,
    recorder: Recorder,
    path_len: usize,
    /// Names in the recorder folder (read once, when first needed; then kept up to date).
    names: Option<Vec<String>>,
}

impl Claimer {
    /// Reads the column sizes of this install.
    pub fn new(db: &mut Db, opts: ClaimOptions, recorder: Recorder) -> anyhow::Result<Claimer> {
        let path_len = column_len(db, "recorder_recordingfiletreatment", "file", 200)?
            .min(column_len(db, "recorder_recording", "source_file", 200)?);
        Ok(Claimer {
            opts,
            recorder,
            path_len,
            names: None,
        })
    }

    /// Handles one record; returns the `pod_claim` object to add to it.
    pub fn handle(&mut self, db: &mut Db, tx: &mut Tx, rec: &Record) -> anyhow::Result<Claim> {
        if rec.path("video.status").and_then(Value::as_str) == Some(Status::Busy.as_str()) {
            // Another job makes this video; its own record brings it here.
            return Ok(Claim {
                status: Status::Skipped,
                file: String::new(),
                treatment_id: None,
                bytes: None,
                recorder_id: self.recorder.id,
            });
        }
        let mut t = self.target(rec)?;
        self.find_renamed(&mut t)?;
        // Another host claiming the same file waits here, then finds it claimed.
        if !self.opts.dry_run {
            lock_for_write(db, tx, &[format!("claim {}", t.pod_path)])?;
        }
        self.claim(db, tx, &t)
    }

    fn claim(&mut self, db: &mut Db, tx: &mut Tx, t: &Target) -> anyhow::Result<Claim> {
        let claim = |status, treatment_id, bytes| Claim {
            status,
            file: t.pod_path.clone(),
            treatment_id,
            bytes,
            recorder_id: self.recorder.id,
        };
        if db
            .query_opt(
                "SELECT id FROM recorder_recording WHERE source_file = $1",
                params![&t.pod_path],
            )
            .map_err(|e| e.for_record("Pod"))?
            .is_some()
        {
            // Pod already processed this path: never place a file there again.
            return Ok(claim(Status::Claimed, None, None));
        }
        let row = db
            .query_opt(
                "SELECT id, file_size FROM recorder_recordingfiletreatment WHERE file = $1",
                params![&t.pod_path],
            )
            .map_err(|e| e.for_record("Pod"))?;
        let on_disk = fs::symlink_metadata(&t.final_path).ok();
        let src_meta = fs::metadata(&t.source).ok().filter(|m| m.is_file());
        match (row, on_disk) {
            (Some(r), Some(m)) => {
                // Never another recording's file, never its source deleted on a guess.
                match owner(&t.final_path, &t.record_id, &t.source) {
                    Owner::Ours => {}
                    Owner::Unknown if t.expected.is_none_or(|b| b == m.len()) => {}
                    _ => self.not_ours(t)?,
                }
                if !self.opts.dry_run && !self.opts.copy {
                    finish_move(tx, &t.source, &t.final_path, src_meta, m.len());
                }
                Ok(claim(Status::Exists, Some(r.get(0)), Some(m.len())))
            }
            (Some(r), None) => bail!(
                "Pod's claim row {} names {} but the file is gone; delete the row or restore the file",
                r.get::<i64>(0),
                t.pod_path
            ),
            (None, Some(m)) => {
                // Ours if a previous run stopped between placing the file and its row.
                let same = match owner(&t.final_path, &t.record_id, &t.source) {
                    Owner::Ours => true,
                    Owner::Foreign => false,
                    Owner::Unknown => t.expected.is_none_or(|b| b == m.len()),
                };
                if !same || !m.is_file() {
                    self.not_ours(t)?;
                }
                if self.opts.dry_run {
                    return Ok(claim(Status::DryRun, None, Some(m.len())));
                }
                let id = self.insert_row(db, tx, &t.pod_path, m.len(), t.start)?;
                if !self.opts.copy {
                    finish_move(tx, &t.source, &t.final_path, src_meta, m.len());
                }
                Ok(claim(Status::Created, Some(id), Some(m.len())))
            }
            (None, None) => {
                let Some(sm) = src_meta else {
                    bail!("video file {} is missing", t.source.display());
                };
                if let Some(b) = t.expected.filter(|b| *b != sm.len()) {
                    bail!(
                        "video file {} has {} bytes, the record says {b}: incomplete?",
                        t.source.display(),
                        sm.len()
                    );
                }
                if self.opts.dry_run {
                    return Ok(claim(Status::DryRun, None, Some(sm.len())));
                }
                let id = self.place_with_row(db, tx, t, sm.clone())?;
                if let Some(names) = &mut self.names {
                    names.push(t.file_name.clone());
                }
                Ok(claim(Status::Created, Some(id), Some(sm.len())))
            }
        }
    }

    /// Where one record's video goes: its source, the name Pod will see and the file on disk.
    fn target(&self, rec: &Record) -> anyhow::Result<Target> {
        let record_id = rec.required_str("record_id")?;
        let start_s = rec.required_str("start_time")?;
        let start = parse_rfc3339(start_s)
            .with_context(|| format!("start_time {start_s:?} is not an RFC 3339 date"))?;
        let name = [rec.str_field("name")?, rec.str_field("meeting_id")?]
            .into_iter()
            .flatten()
            .find(|s| !s.trim().is_empty())
            .unwrap_or("");
        let source = match rec.path("video.path") {
            Some(Value::String(s)) if !s.is_empty() => PathBuf::from(s),
            _ => bail!("no video.path: make the video first (bbb-record)"),
        };
        let ext = source
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        if !ALLOWED_EXTENSIONS.contains(&ext.as_str()) {
            bail!(
                "{}: Pod's recorder job ignores .{ext} files",
                source.display()
            );
        }
        let budget = self
            .path_len
            .saturating_sub(self.recorder.prefix.chars().count());
        let file_name = file_name(name, start, record_id, &ext, budget).with_context(|| {
            format!(
                "{} is too long for Pod's {}-character path column",
                self.recorder.prefix, self.path_len
            )
        })?;
        Ok(Target {
            record_id: record_id.to_string(),
            tail: tail(start, record_id, &ext),
            expected: rec.path("video.bytes").and_then(Value::as_u64),
            pod_path: format!("{}{file_name}", self.recorder.prefix),
            final_path: self.recorder.folder.join(&file_name),
            file_name,
            source,
            start,
        })
    }

    /// Places a new file and inserts its row; without the row, the file is taken back
    /// (the source is still where it was).
    fn place_with_row(
        &self,
        db: &mut Db,
        tx: &mut Tx,
        t: &Target,
        src: fs::Metadata,
    ) -> anyhow::Result<i64> {
        if self.place(&t.source, &t.final_path, &t.file_name, &t.record_id)? {
            tx.commit_after_record();
        }
        let id = match self.insert_row(db, tx, &t.pod_path, src.len(), t.start) {
            Ok(id) => id,
            Err(e) => {
                let _ = fs::remove_file(&t.final_path);
                let _ = sync_dir(&self.recorder.folder);
                return Err(e);
            }
        };
        if !self.opts.copy {
            let len = src.len();
            finish_move(tx, &t.source, &t.final_path, Some(src), len);
        }
        Ok(id)
    }

    fn insert_row(
        &self,
        db: &mut Db,
        tx: &mut Tx,
        pod_path: &str,
        bytes: u64,
        start: DateTime<Utc>,
    ) -> anyhow::Result<i64> {
        let size = i64::try_from(bytes).context("file too large")?;
        tx.writing(db)?;
        db.insert(
            "INSERT INTO recorder_recordingfiletreatment (file, file_size, recorder_id, date_added, \
             require_manual_claim, email_sent, date_email_sent, type) \
             VALUES ($1, $2, $3, $4, $5, $6, NULL, $7)",
            params![
                pod_path,
                size,
                self.recorder.id,
                start,
                true,
                false,
                &self.recorder.recording_type
            ],
        )
        .map_err(|e| e.for_record("Pod"))
    }

    /// Writes the video under a temporary name in the recorder folder (a hard link when
    /// moving within one file system, else a copy), syncs it, then links it to its final
    /// name, which fails rather than overwrite. True when the video was copied.
    fn place(
        &self,
        source: &Path,
        final_path: &Path,
        file_name: &str,
        record_id: &str,
    ) -> anyhow::Result<bool> {
        let tmp = self.recorder.folder.join(format!(".{file_name}.part"));
        let _ = fs::remove_file(&tmp); // a previous run's leftover
        let linked = !self.opts.copy && fs::hard_link(source, &tmp).is_ok();
        // A link shares the source's data, which may not be on disk yet: sync it too.
        let written = if linked {
            File::open(&tmp).and_then(|f| f.sync_all())
        } else {
            copy_synced(source, &tmp)
        };
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(io_error(
                e,
                format!(
                    "cannot copy {} into {}",
                    source.display(),
                    self.recorder.folder.display()
                ),
            ));
        }
        owner::tag(&tmp, record_id);
        let res = fs::hard_link(&tmp, final_path);
        let _ = fs::remove_file(&tmp);
        match res {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                bail!(
                    "{} appeared meanwhile: not overwritten",
                    final_path.display()
                )
            }
            Err(e) => {
                return Err(io_error(
                    e,
                    format!("cannot create {}", final_path.display()),
                ));
            }
        }
        sync_dir(&self.recorder.folder)
            .map_err(|e| io_error(e, format!("cannot sync {}", self.recorder.folder.display())))?;
        Ok(!linked)
    }

    /// A placed file under this record's name that is not its video: fails the record,
    /// the file and the source left as they are.
    fn not_ours(&self, t: &Target) -> anyhow::Result<()> {
        bail!(
            "{} already exists and is another recording's video (same name, start and ID prefix): \
             not overwritten, not claimed; {} kept",
            t.final_path.display(),
            t.source.display()
        )
    }

    /// A recording renamed since it was claimed keeps its start and record ID, so its
    /// placed file ends as this record's name would: when one of those is this
    /// recording's (by its record ID, or its content), the record's claim is that file.
    fn find_renamed(&mut self, t: &mut Target) -> anyhow::Result<()> {
        if fs::symlink_metadata(&t.final_path).is_ok() {
            return Ok(());
        }
        let names = match &mut self.names {
            Some(n) => n,
            None => {
                let mut v = Vec::new();
                for e in fs::read_dir(&self.recorder.folder)
                    .with_context(|| format!("cannot read {}", self.recorder.folder.display()))?
                {
                    v.push(e?.file_name().to_string_lossy().into_owned());
                }
                self.names.insert(v)
            }
        };
        let ending = format!("-{}", t.tail);
        let found = names.iter().find(|n| {
            n.ends_with(&ending)
                && !n.starts_with('.')
                && owner(&self.recorder.folder.join(n), &t.record_id, &t.source) == Owner::Ours
        });
        if let Some(n) = found {
            log::info!(
                "record {}: claimed before as {n} (renamed since)",
                t.record_id
            );
            t.pod_path = format!("{}{n}", self.recorder.prefix);
            t.final_path = self.recorder.folder.join(n);
            t.file_name = n.clone();
        }
        Ok(())
    }
}

/// After a move, removes the source once the file is in place and its row committed.
fn finish_move(
    tx: &mut Tx,
    source: &Path,
    final_path: &Path,
    src: Option<fs::Metadata>,
    placed: u64,
) {
    let Some(s) = src else { return };
    if s.len() != placed || same_path(source, final_path) {
        return;
    }
    let (source, final_path) = (source.to_path_buf(), final_path.to_path_buf());
    tx.after_commit(move || {
        if let Err(e) = fs::remove_file(&source) {
            log::warn!(
                "{} is placed but the source {} stays: {e}",
                final_path.display(),
                source.display()
            );
        }
    });
}

fn same_path(a: &Path, b: &Path) -> bool {
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

fn copy_synced(source: &Path, tmp: &Path) -> io::Result<()> {
    let mut src = File::open(source)?;
    let mut dst = OpenOptions::new().write(true).create_new(true).open(tmp)?;
    io::copy(&mut src, &mut dst)?;
    dst.sync_all()
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// A full or read-only file system dooms every later record too: fatal.
fn io_error(e: io::Error, what: String) -> anyhow::Error {
    let doomed = crate::error::dooms_every_write(&e);
    let err = anyhow::Error::new(e).context(what);
    if doomed { fatal(err) } else { err }
}

/// `<YYYY-MM-DD>-<HHMMSS>-<first 8 of the record ID>.<ext>` (UTC): the end of a file
/// name, the same whatever the recording's name.
pub fn tail(start: DateTime<Utc>, record_id: &str, ext: &str) -> String {
    let rid: String = record_id
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(8)
        .collect::<String>()
        .to_ascii_lowercase();
    format!("{}-{rid}.{ext}", start.format("%Y-%m-%d-%H%M%S"))
}

/// `<slug of the name>-<YYYY-MM-DD>-<HHMMSS>-<first 8 of the record ID>.<ext>` (UTC), the
/// slug cut so that the whole name fits in `budget` characters; `None` if even the
/// fixed part does not fit.
pub fn file_name(
    name: &str,
    start: DateTime<Utc>,
    record_id: &str,
    ext: &str,
    budget: usize,
) -> Option<String> {
    let tail = tail(start, record_id, ext);
    let room = budget.checked_sub(tail.len())?;
    let mut slug: String = slugify(&name.chars().take(40).collect::<String>());
    if slug.is_empty() {
        slug = "recording".to_string();
    }
    if room < 2 {
        return Some(tail); // no room for a slug
    }
    slug.truncate(room - 1);
    let slug = slug.trim_end_matches(['-', '_']);
    Some(format!("{slug}-{tail}"))
}

/// Django's `slugify` (NFKD, then ASCII only, lower case, only `[a-z0-9_]`, spaces and
/// dashes kept, each run of them made one dash, no dash or underscore at either end), with
/// one difference: the letters NFKD does not take apart, which Django drops, are spelt
/// out, so that French names stay readable: œ → oe, æ → ae, ß → ss, ø → o (`l'œuvre` is
/// `loeuvre` here, `luvre` in Django).
pub fn slugify(s: &str) -> String {
    let ascii = s
        .chars()
        .flat_map(|c| match spelt_out(c) {
            Some(t) => t.chars().collect::<Vec<_>>(),
            None => vec![c],
        })
        .nfkd()
        .filter(char::is_ascii);
    let mut out = String::new();
    for c in ascii {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() || c == '_' {
            out.push(c);
        } else if (c == '-' || is_python_space(c)) && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches(['-', '_']).to_string()
}

/// The letters Django's slugify drops (NFKD leaves them whole) that French names use.
fn spelt_out(c: char) -> Option<&'static str> {
    Some(match c {
        'œ' | 'Œ' => "oe",
        'æ' | 'Æ' => "ae",
        'ß' => "ss",
        'ø' | 'Ø' => "o",
        _ => return None,
    })
}

/// Python's `\s` on ASCII: space, \t \n \v \f \r and the separators \x1c–\x1f.
fn is_python_space(c: char) -> bool {
    matches!(c, ' ' | '\t'..='\r' | '\x1c'..='\x1f')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_claim_object_keeps_its_keys_and_order() {
        let c = Claim {
            status: Status::Created,
            file: "/f/x.mp4".into(),
            treatment_id: Some(3),
            bytes: Some(10),
            recorder_id: 1,
        };
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            r#"{"status":"created","file":"/f/x.mp4","treatment_id":3,"bytes":10,"recorder_id":1}"#
        );
        let c = Claim {
            status: Status::Claimed,
            treatment_id: None,
            bytes: None,
            ..c
        };
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            r#"{"status":"claimed","file":"/f/x.mp4","treatment_id":null,"bytes":null,"recorder_id":1}"#
        );
    }

    #[test]
    fn slug_folds_accents_like_django() {
        assert_eq!(
            slugify("Cours de Maths L1 – Groupe A"),
            "cours-de-maths-l1-groupe-a"
        );
        assert_eq!(slugify("  Été: l'œuvre!  "), "ete-loeuvre");
        assert_eq!(slugify("日本"), "");
    }

    #[test]
    fn slug_is_djangos_but_spells_out_oe_ae_ss() {
        // As Python's django.utils.text.slugify gives, checked one by one: NFKD then
        // ASCII, so accents and compatibility forms fold…
        assert_eq!(slugify("Ça déjà où Ñandú"), "ca-deja-ou-nandu");
        assert_eq!(slugify("Ｃｏｕｒｓ ﬁnal ²"), "cours-final-2");
        assert_eq!(slugify("Łódź Dvořák"), "odz-dvorak"); // ł has no decomposition
        // …emoji and other scripts go…
        assert_eq!(slugify("🎓 Cours 🎥 n°1 😀"), "cours-n1");
        assert_eq!(slugify("Урок 5"), "5");
        // …punctuation goes, runs of spaces and dashes become one dash, ends are trimmed…
        assert_eq!(slugify("_a - ! - b_\t\x0bc-"), "a-b_-c");
        // …but œ æ ß ø, which Django drops, are spelt out.
        assert_eq!(
            slugify("Œuvre, Æsop, Straße, Ørsted"),
            "oeuvre-aesop-strasse-orsted"
        );
    }

    #[test]
    fn names_are_unique_per_recording_and_fit_the_column() {
        let t = parse_rfc3339("2023-03-14T09:05:07Z").unwrap();
        let n = file_name(
            "Cours de Maths",
            t,
            "183f0bf3a0982a12-1678784707000",
            "webm",
            200,
        )
        .unwrap();
        assert_eq!(n, "cours-de-maths-2023-03-14-090507-183f0bf3.webm");
        let short = file_name(&"x".repeat(40), t, "abc", "mp4", 34).unwrap();
        assert!(short.len() <= 34, "{short}");
        assert!(short.ends_with("-2023-03-14-090507-abc.mp4"));
        assert!(file_name("x", t, "abc", "mp4", 10).is_none());
    }
}
