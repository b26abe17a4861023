//! The moodle-inform stage: adds (or with `--remove` takes out) each recording's entry in the
//! notice of its activity's description, one transaction per activity and batch, and
//! bumps the course cache revision so that Moodle shows the new text.

use super::config::{DbEntry, Tables};
use super::notice;
use super::site::{Site, Use};
use crate::batch::Pending;
use crate::cli::Out;
use crate::db::sql::{self, ErrorKind};
use crate::outcome::Status;
use crate::params;
use anyhow::anyhow;
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;

/// How the stage is configured.
pub struct Options {
    /// The Moodle databases, by the name moodle-moderators wrote in `moodle.server`.
    pub dbs: Vec<DbEntry>,
    /// Table naming of every database.
    pub tables: Tables,
    /// The per-recording message (HTML with placeholders).
    pub template: String,
    /// Value of `{pod_url}` (else the record's `pod_import.url`).
    pub pod_url: Option<String>,
    /// Take the recordings' entries out instead of adding them.
    pub remove: bool,
    /// Read and compute everything, write nothing.
    pub dry_run: bool,
    /// Seconds to wait for a lock another session holds on an activity or its course.
    pub lock_timeout: u64,
}

/// The stage, with one connection per database once used.
pub struct Informer {
    opts: Options,
    sites: HashMap<usize, Site>,
}

/// The `moodle_inform` object a record gets.
#[derive(Debug, Clone, Serialize)]
pub struct Inform {
    /// `updated`, `unchanged`, `removed`, `dry-run`, `skipped` or `no-activity`.
    pub status: Status,
    /// `bigbluebuttonbn.id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activity_id: Option<i64>,
    /// The activity's course.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub course_id: Option<i64>,
    /// Why the record was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    /// With `--dry-run`: the status a real run would have.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub would: Option<Status>,
    /// Recordings the notice lists after this record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice_recordings: Option<usize>,
}

impl Inform {
    /// A record without a Moodle activity (or whose activity is gone).
    fn no_activity(activity_id: Option<i64>) -> Inform {
        Inform {
            status: Status::NoActivity,
            activity_id,
            course_id: None,
            reason: None,
            would: None,
            notice_recordings: None,
        }
    }
}

struct Work {
    site: usize,
    activity: i64,
    course: Option<i64>,
    key: String,
    html: String,
}

impl Informer {
    /// A stage that connects lazily.
    pub fn new(opts: Options) -> Informer {
        Informer {
            opts,
            sites: HashMap::new(),
        }
    }

    /// Handles one batch: groups records by activity, one transaction per activity, then
    /// emits every record in input order with `moodle_inform`.
    pub fn process(&mut self, out: &mut Out, batch: Vec<Pending>) -> anyhow::Result<()> {
        let works: Vec<anyhow::Result<Option<Work>>> = batch.iter().map(|p| self.work(p)).collect();
        let mut groups: Vec<((usize, i64), Vec<usize>)> = Vec::new();
        for (i, w) in works.iter().enumerate() {
            if let Ok(Some(w)) = w {
                let g = (w.site, w.activity);
                match groups.iter_mut().find(|(k, _)| *k == g) {
                    Some((_, v)) => v.push(i),
                    None => groups.push((g, vec![i])),
                }
            }
        }
        let mut results: HashMap<usize, anyhow::Result<Inform>> = HashMap::new();
        for ((site, activity), idx) in groups {
            let items: Vec<&Work> = idx
                .iter()
                .filter_map(|i| works[*i].as_ref().ok().and_then(Option::as_ref))
                .collect();
            let res = self.activity(site, activity, &items)?;
            for (i, r) in idx.into_iter().zip(res) {
                results.insert(i, r);
            }
        }
        for (i, (p, w)) in batch.into_iter().zip(works).enumerate() {
            let Pending { line, mut rec } = p;
            let status = match w {
                Err(e) => {
                    out.fail(line, Some(&rec), &e)?;
                    continue;
                }
                Ok(None) => Inform::no_activity(None),
                Ok(Some(_)) => match results.remove(&i) {
                    Some(Ok(v)) => v,
                    Some(Err(e)) => {
                        out.fail(line, Some(&rec), &e)?;
                        continue;
                    }
                    None => Inform::no_activity(None),
                },
            };
            rec.set_typed("moodle_inform", &status)?;
            out.emit(&rec)?;
            out.count(status.status.as_str());
        }
        Ok(())
    }

    /// What one record asks for; None when it has no Moodle activity.
    fn work(&self, p: &Pending) -> anyhow::Result<Option<Work>> {
        let m = match p.rec.0.get("moodle") {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Object(m)) => m,
            Some(_) => anyhow::bail!("field moodle must be an object (from moodle-moderators)"),
        };
        let server = m
            .get("server")
            .and_then(Value::as_str)
            .ok_or_else(|| anyhow!("field moodle.server is missing"))?;
        let activity = m
            .get("activity_id")
            .and_then(Value::as_i64)
            .ok_or_else(|| anyhow!("field moodle.activity_id must be an integer"))?;
        let course = m.get("course_id").and_then(Value::as_i64);
        let site = self
            .opts
            .dbs
            .iter()
            .position(|d| d.name.eq_ignore_ascii_case(server))
            .ok_or_else(|| anyhow!("no database configured for Moodle server {server:?} (give --db {server}=CONNINFO)"))?;
        let record_id = p.rec.required_str("record_id")?;
        let html = if self.opts.remove {
            String::new()
        } else {
            notice::render(&self.opts.template, &p.rec, self.opts.pod_url.as_deref())?
        };
        if html.contains('\0') || record_id.contains('\0') {
            anyhow::bail!(
                "the record holds a NUL character (\\u0000), which the database cannot store"
            );
        }
        Ok(Some(Work {
            site,
            activity,
            course,
            key: notice::entry_key(record_id),
            html,
        }))
    }

    /// One transaction for one activity: read the description (locked), compute, write. A
    /// lost connection or a missing privilege is fatal; a lock not granted in time or a value
    /// the database refuses fails this activity's records (the transaction rolled back).
    fn activity(
        &mut self,
        s: usize,
        activity: i64,
        items: &[&Work],
    ) -> anyhow::Result<Vec<anyhow::Result<Inform>>> {
        let (remove, dry_run) = (self.opts.remove, self.opts.dry_run);
        let lock_timeout = self.opts.lock_timeout;
        let site = self.site(s)?;
        let name = site.name.clone();
        let begun = if dry_run {
            site.db.begin_snapshot()
        } else {
            site.db.begin()
        };
        if let Err(e) = begun {
            return Err(site.fail(e));
        }
        let done = in_transaction(site, activity, items, remove, dry_run);
        let kept = match &done {
            Ok(Some((_, true))) => site.db.commit(),
            _ => site.db.rollback(),
        };
        let outcome = match done {
            Err(e) if kept.is_ok() && record_fault(e.kind) => {
                let why = format!(
                    "activity {activity} of Moodle database {name}: {}",
                    fault_words(&e, lock_timeout)
                );
                return Ok(items.iter().map(|_| Err(anyhow!("{why}"))).collect());
            }
            Err(e) => return Err(site.fail(e)),
            Ok(o) => o,
        };
        if let Err(e) = kept {
            return Err(site.fail(e));
        }
        Ok(match outcome {
            None => items
                .iter()
                .map(|_| Ok(Inform::no_activity(Some(activity))))
                .collect(),
            Some((o, _)) => o,
        })
    }

    /// The connection to database `s`, opened on first use.
    fn site(&mut self, s: usize) -> anyhow::Result<&mut Site> {
        if !self.sites.contains_key(&s) {
            let how = Use {
                tool: "moodle-inform",
                lock_timeout: Some(self.opts.lock_timeout),
                writes: !self.opts.dry_run,
            };
            let site = Site::connect(&self.opts.dbs[s], &self.opts.tables, how)?;
            self.sites.insert(s, site);
        }
        Ok(self.sites.get_mut(&s).expect("connected above"))
    }
}

/// Whether a database error fails only the records of one activity.
fn record_fault(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::LockTimeout | ErrorKind::TooLong | ErrorKind::BadValue
    )
}

/// A record-level database error in words.
fn fault_words(e: &sql::Error, waited: u64) -> String {
    match e.kind {
        ErrorKind::LockTimeout => format!(
            "another session holds a lock on the activity or its course (waited {waited} s, \
             --lock-timeout; run again later): {e}"
        ),
        _ => format!("the database refused the new description: {e}"),
    }
}

/// The outcomes of one activity's records and whether there is something to commit;
/// None when the activity is gone.
type Outcomes = Option<(Vec<anyhow::Result<Inform>>, bool)>;

/// The work of one activity inside its transaction.
fn in_transaction(
    site: &mut Site,
    activity: i64,
    items: &[&Work],
    remove: bool,
    dry_run: bool,
) -> sql::Result<Outcomes> {
    let t = site.tables.clone();
    let lock = if dry_run { "" } else { " FOR UPDATE" };
    let rows = site.try_query(
        &format!(
            "SELECT intro, introformat, course FROM {} WHERE id = $1{lock}",
            t.t("bigbluebuttonbn")
        ),
        params![activity],
    )?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let (intro, format, course): (Option<String>, i32, i64) = (row.get(0), row.get(1), row.get(2));
    let at = At {
        activity,
        course,
        db: site.name.clone(),
    };
    let (mut upserts, mut removes) = (Vec::new(), Vec::new());
    for w in items.iter().filter(|w| !at.wrong_course(w)) {
        if remove {
            removes.push(w.key.clone());
        } else {
            upserts.push((w.key.clone(), w.html.clone()));
        }
    }
    let before = notice::entries(intro.as_deref());
    let (new, new_format) = notice::apply_with_format(intro.as_deref(), format, &upserts, &removes);
    let changed = new != intro || new_format != format;
    let listed = notice::count(new.as_deref());
    let write = changed && !dry_run;
    if write {
        write_description(site, &at, &new, new_format)?;
    }
    if dry_run && changed {
        at.say_dry_run(remove, listed, new.as_deref());
    }
    // A recording twice in one batch: the second finds the first one's entry.
    let mut seen: Vec<(String, String)> = before;
    let outcomes = items
        .iter()
        .map(|w| {
            let r = at.outcome(w, &seen, remove, dry_run, listed);
            seen.retain(|(k, _)| *k != w.key);
            if !remove && r.is_ok() {
                seen.push((w.key.clone(), w.html.clone()));
            }
            r
        })
        .collect();
    Ok(Some((outcomes, write)))
}

/// The activity one transaction works on, as read from its database.
struct At {
    activity: i64,
    course: i64,
    /// The database's configured name, for messages.
    db: String,
}

impl At {
    /// The `moodle_inform` object of a record of this activity.
    fn status(&self, status: Status) -> Inform {
        Inform {
            status,
            activity_id: Some(self.activity),
            course_id: Some(self.course),
            reason: None,
            would: None,
            notice_recordings: None,
        }
    }

    /// The `moodle_inform` object of one record, from the entries the notice had before.
    fn outcome(
        &self,
        w: &Work,
        before: &[(String, String)],
        remove: bool,
        dry_run: bool,
        listed: usize,
    ) -> anyhow::Result<Inform> {
        self.check_course(w)?;
        let had = before.iter().find(|(k, _)| *k == w.key);
        let status = match (remove, had) {
            (true, Some(_)) => Status::Removed,
            (true, None) => Status::Unchanged,
            (false, Some((_, h))) if *h == w.html => Status::Unchanged,
            (false, _) => Status::Updated,
        };
        Ok(if dry_run {
            Inform {
                would: Some(status),
                notice_recordings: Some(listed),
                ..self.status(Status::DryRun)
            }
        } else {
            Inform {
                notice_recordings: Some(listed),
                ..self.status(status)
            }
        })
    }

    /// Says on stderr what a real run would write (and with -v the new description).
    fn say_dry_run(&self, remove: bool, listed: usize, new: Option<&str>) {
        let what = if remove { "take out of" } else { "write into" };
        crate::diag::line(&format!(
            "moodle-inform: dry-run: database {}: would {what} the description of activity {} \
             (course {}) a notice listing {listed} recording(s)",
            self.db, self.activity, self.course
        ));
        log::info!(
            "activity {}: new description: {}",
            self.activity,
            new.unwrap_or("NULL")
        );
    }

    /// Whether the record names another course than the activity's.
    fn wrong_course(&self, w: &Work) -> bool {
        w.course.is_some_and(|c| c != self.course)
    }

    /// Fails a record that names another course than the activity's.
    fn check_course(&self, w: &Work) -> anyhow::Result<()> {
        if self.wrong_course(w) {
            anyhow::bail!(
                "activity {} of database {} is in course {}, not {} as the record says",
                self.activity,
                self.db,
                self.course,
                w.course.unwrap_or_default()
            );
        }
        Ok(())
    }
}

/// Writes the new description and bumps the course's cache revision, so that Moodle
/// shows the new text (in the caller's transaction).
fn write_description(
    site: &mut Site,
    at: &At,
    new: &Option<String>,
    format: i32,
) -> sql::Result<()> {
    let t = site.tables.clone();
    let now = chrono::Utc::now().timestamp();
    site.try_query(
        &format!(
            "UPDATE {} SET intro = $2, timemodified = $3, introformat = $4 WHERE id = $1",
            t.t("bigbluebuttonbn")
        ),
        params![at.activity, new.as_deref(), now, format],
    )?;
    site.try_query(
        &format!(
            "UPDATE {} SET cacherev = CASE WHEN cacherev IS NULL OR cacherev < $2 OR cacherev > $2 + 3600
                                           THEN $2 ELSE cacherev + 1 END
              WHERE id = $1",
            t.t("course")
        ),
        params![at.course, now],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moodle_inform_object_keeps_its_keys_and_order() {
        let at = At {
            activity: 4,
            course: 2,
            db: "default".into(),
        };
        let json = |i: &Inform| serde_json::to_string(i).unwrap();
        assert_eq!(
            json(&Inform::no_activity(None)),
            r#"{"status":"no-activity"}"#
        );
        assert_eq!(
            json(&Inform::no_activity(Some(4))),
            r#"{"status":"no-activity","activity_id":4}"#
        );
        let skipped = Inform {
            reason: Some("plain"),
            ..at.status(Status::Skipped)
        };
        assert_eq!(
            json(&skipped),
            r#"{"status":"skipped","activity_id":4,"course_id":2,"reason":"plain"}"#
        );
        let dry = Inform {
            would: Some(Status::Updated),
            notice_recordings: Some(3),
            ..at.status(Status::DryRun)
        };
        assert_eq!(
            json(&dry),
            r#"{"status":"dry-run","activity_id":4,"course_id":2,"would":"updated","notice_recordings":3}"#
        );
    }
}
