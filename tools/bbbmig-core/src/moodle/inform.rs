//! The moodle-inform stage: adds (or with `--remove` takes out) each recording's entry in the
//! notice of its activity's description, one transaction per activity and batch, and
//! bumps the course cache revision so that Moodle shows the new text.

use super::config::{DbEntry, Tables};
use super::notice;
use super::site::{Site, run};
use crate::batch::Pending;
use crate::cli::Out;
use crate::error::fatal;
use anyhow::{Context, anyhow};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::Write;

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
}

/// The stage, with one connection per database once used.
pub struct Informer {
    opts: Options,
    sites: HashMap<usize, Site>,
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
        let mut results: HashMap<usize, anyhow::Result<Value>> = HashMap::new();
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
                Ok(None) => json!({"status": "no-activity"}),
                Ok(Some(_)) => match results.remove(&i) {
                    Some(Ok(v)) => v,
                    Some(Err(e)) => {
                        out.fail(line, Some(&rec), &e)?;
                        continue;
                    }
                    None => json!({"status": "no-activity"}),
                },
            };
            out.count(status["status"].as_str().unwrap_or("?"));
            rec.set("moodle_inform", status);
            out.emit(&rec)?;
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
        Ok(Some(Work {
            site,
            activity,
            course,
            key: notice::entry_key(record_id),
            html,
        }))
    }

    /// One transaction for one activity: read the description (locked), compute, write.
    fn activity(
        &mut self,
        s: usize,
        activity: i64,
        items: &[&Work],
    ) -> anyhow::Result<Vec<anyhow::Result<Value>>> {
        if !self.sites.contains_key(&s) {
            let site = Site::connect(&self.opts.dbs[s], &self.opts.tables, "moodle-inform", false)?;
            self.sites.insert(s, site);
        }
        let t = self.opts.tables.clone();
        let (remove, dry_run) = (self.opts.remove, self.opts.dry_run);
        let Some(site) = self.sites.get_mut(&s) else {
            unreachable!("connected above")
        };
        let Site {
            client,
            queries,
            name,
            ..
        } = site;
        let mut tx = client
            .build_transaction()
            .read_only(dry_run)
            .start()
            .with_context(|| format!("Moodle database {name}"))
            .map_err(fatal)?;
        let lock = if dry_run { "" } else { " FOR UPDATE" };
        let rows = run(
            &mut tx,
            queries,
            name,
            &format!(
                "SELECT intro::text, introformat::int, course::bigint FROM {} WHERE id = $1{lock}",
                t.t("bigbluebuttonbn")
            ),
            &[&activity],
        )?;
        let Some(row) = rows.first() else {
            tx.rollback().ok();
            return Ok(items
                .iter()
                .map(|_| Ok(json!({"status": "no-activity", "activity_id": activity})))
                .collect());
        };
        let (intro, format, course): (Option<String>, i32, i64) =
            (row.get(0), row.get(1), row.get(2));
        let with = |status: &str, extra: Value| {
            let mut o = serde_json::Map::new();
            o.insert("status".into(), json!(status));
            o.insert("activity_id".into(), json!(activity));
            o.insert("course_id".into(), json!(course));
            if let Value::Object(e) = extra {
                o.extend(e);
            }
            Value::Object(o)
        };
        if format == 2 {
            tx.rollback().ok();
            return Ok(items
                .iter()
                .map(|_| {
                    Ok(with(
                        "skipped",
                        json!({"reason": "the description is plain text (introformat 2)"}),
                    ))
                })
                .collect());
        }
        let mut wrong_course = Vec::new();
        let mut upserts = Vec::new();
        let mut removes = Vec::new();
        for (i, w) in items.iter().enumerate() {
            if w.course.is_some_and(|c| c != course) {
                wrong_course.push(i);
            } else if remove {
                removes.push(w.key.clone());
            } else {
                upserts.push((w.key.clone(), w.html.clone()));
            }
        }
        let before = notice::entries(intro.as_deref());
        let new = notice::apply(intro.as_deref(), &upserts, &removes);
        let changed = new != intro;
        let listed = notice::count(new.as_deref());
        if changed && !dry_run {
            let now = chrono::Utc::now().timestamp();
            run(
                &mut tx,
                queries,
                name,
                &format!(
                    "UPDATE {} SET intro = $2, timemodified = $3 WHERE id = $1",
                    t.t("bigbluebuttonbn")
                ),
                &[&activity, &new, &now],
            )?;
            run(
                &mut tx,
                queries,
                name,
                &format!(
                    "UPDATE {} SET cacherev = CASE WHEN cacherev IS NULL OR cacherev < $2 OR cacherev > $2 + 3600
                                                   THEN $2 ELSE cacherev + 1 END
                      WHERE id = $1",
                    t.t("course")
                ),
                &[&course, &now],
            )?;
            tx.commit()
                .with_context(|| format!("Moodle database {name}"))
                .map_err(fatal)?;
        } else {
            tx.rollback().ok();
        }
        if dry_run && changed {
            let what = if remove { "take out of" } else { "write into" };
            let _ = writeln!(
                std::io::stderr().lock(),
                "moodle-inform: dry-run: database {name}: would {what} the description of activity {activity} \
                 (course {course}) a notice listing {listed} recording(s)"
            );
            log::info!(
                "activity {activity}: new description: {}",
                new.as_deref().unwrap_or("NULL")
            );
        }
        Ok(items
            .iter()
            .enumerate()
            .map(|(i, w)| {
                if wrong_course.contains(&i) {
                    return Err(anyhow!(
                        "activity {activity} of database {name} is in course {course}, not {} as the record says",
                        w.course.unwrap_or_default()
                    ));
                }
                let had = before.iter().find(|(k, _)| *k == w.key);
                let status = match (remove, had) {
                    (true, Some(_)) => "removed",
                    (true, None) => "unchanged",
                    (false, Some((_, h))) if *h == w.html => "unchanged",
                    (false, _) => "updated",
                };
                Ok(if dry_run {
                    with("dry-run", json!({"would": status, "notice_recordings": listed}))
                } else {
                    with(status, json!({"notice_recordings": listed}))
                })
            })
            .collect())
    }
}
