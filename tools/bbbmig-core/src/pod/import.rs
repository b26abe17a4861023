//! "My external recordings": one `import_video_externalrecording` per owner of each
//! recording (the Pod meeting's owners, else the record's moderators, else the admin),
//! with the missing users created, all of one record behind one savepoint of the batch's
//! transaction ([`super::commit`]); `--remove` takes those rows out again. Plain
//! statements, the same on PostgreSQL and MariaDB/MySQL.

use crate::db::Engine;
use crate::db::sql::{self, Db, ErrorKind};
use crate::outcome::Status;
use crate::params;
use crate::pod::commit::Tx;
use crate::pod::lock::lock_for_write;
use crate::pod::users::{Found, Person, Users};
use crate::pod::{column_len, truncate_chars};
use crate::record::Record;
use crate::timefmt::parse_rfc3339;
use anyhow::{Context, bail};
use chrono::{DateTime, Timelike, Utc};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// What to do with each record.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    /// Create the missing users and external recordings.
    Import,
    /// Read everything, write nothing, say what would be done.
    DryRun,
    /// Delete the external recordings these records would create (users stay).
    Remove,
    /// Read everything, write nothing, say what `Remove` would delete.
    RemoveDryRun,
}

impl Mode {
    /// Taking rows out (or saying which), not putting them in.
    fn removes(self) -> bool {
        matches!(self, Mode::Remove | Mode::RemoveDryRun)
    }
}

/// Settings of a run.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Receives recordings with no other known owner.
    pub admin: Option<i32>,
    /// Site of the external recordings (a Pod meeting's own site wins).
    pub site_id: i32,
    /// Skip records with no Pod meeting owner and no moderators instead of giving them
    /// to the admin.
    pub moderators_only: bool,
    /// Import, dry run or remove.
    pub mode: Mode,
}

/// Where a record's owners came from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The owner and co-owners of the Pod meeting that made the recording.
    PodMeeting,
    /// The record's moderators (from moodle-moderators).
    Moderators,
    /// The `--admin` user.
    Admin,
}

/// The `--admin` user, as read at start.
#[derive(Debug, Clone)]
struct Admin {
    id: i32,
    username: String,
    staff: bool,
}

/// One owner of a record, found or still to create.
struct Owner {
    username: String,
    person: Option<Person>,
    found: Option<Found>,
    /// `exists`, `missing`, `created` or `would-create`.
    user_status: Status,
}

/// The `pod_import` object a record gets.
#[derive(Debug, Clone, Serialize)]
pub struct Import {
    /// `created`, `exists`, `dry-run`, `removed`, `absent` or `skipped`.
    pub status: Status,
    /// Why a record was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    /// Where the owners came from (not for a skipped record).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owners_from: Option<Source>,
    /// Site of the external recordings (not for a skipped record).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site_id: Option<i32>,
    /// One entry per owner.
    pub owners: Vec<OwnerImport>,
    /// Pod users this record created.
    pub users_created: usize,
}

impl Import {
    /// A record skipped for want of owners (`--moderators-only`).
    fn without_owners() -> Import {
        Import {
            status: Status::Skipped,
            reason: Some("no Pod meeting owner and no moderators"),
            owners_from: None,
            site_id: None,
            owners: Vec::new(),
            users_created: 0,
        }
    }
}

/// What happened for one owner of a record.
#[derive(Debug, Clone, Serialize)]
pub struct OwnerImport {
    /// Pod username.
    pub username: String,
    /// `auth_user.id`, once known.
    pub user_id: Option<i32>,
    /// The user: `exists`, `created`, `missing`, `would-create` or (removing) `absent`.
    pub user: Status,
    /// `import_video_externalrecording.id`, when there is (or was) one.
    pub external_recording_id: Option<i64>,
    /// The external recording: `created`, `exists`, `would-create`, `removed` or `absent`.
    pub external_recording: Status,
    /// `auth_user.is_staff`, once the user is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub staff: Option<bool>,
}

/// The Pod meeting a BigBlueButton meeting ID belongs to (this site's first, then the
/// latest).
const MEETING: &str = "SELECT id, site_id FROM meeting WHERE meeting_id = $1 \
     ORDER BY CASE WHEN site_id = $2 THEN 0 ELSE 1 END, start_at DESC LIMIT 1";

/// A Pod meeting's owner, then its co-owners in the order they were added.
const MEETING_OWNERS: &str = "
SELECT u.id, u.username, u.is_staff, 0 AS ord
FROM meeting m JOIN auth_user u ON u.id = m.owner_id WHERE m.id = $1
UNION ALL
SELECT u.id, u.username, u.is_staff, a.id
FROM meeting_additional_owners a JOIN auth_user u ON u.id = a.user_id WHERE a.meeting_id = $1
ORDER BY 4";

/// Imports records one at a time.
pub struct Importer {
    opts: ImportOptions,
    users: Users,
    admin: Option<Admin>,
    has_meeting: bool,
    meeting_ids: HashSet<String>,
    /// The external recordings that exist, by source_url (`created` false).
    known: HashMap<String, Vec<Row>>,
    name_len: usize,
    url_len: usize,
}

impl ImportOptions {
    /// Refuses options that leave some records without an owner (a setting, checked
    /// before anything is read). Owners are resolved for removal exactly as for import:
    /// without the admin, `--remove` would leave the rows the import gave them.
    pub fn check(&self) -> anyhow::Result<()> {
        if self.admin.is_none() && !self.moderators_only {
            bail!(
                "give --admin ID (receives recordings with no known owner{}) or --moderators-only",
                if self.mode.removes() {
                    "; its rows are removed too"
                } else {
                    ""
                }
            );
        }
        Ok(())
    }
}

impl Importer {
    /// Checks the set-up (site and admin exist) and prepares the statements; errors
    /// here are fatal.
    pub fn new(db: &mut Db, opts: ImportOptions, users: Users) -> anyhow::Result<Importer> {
        let site = db.query_opt(
            "SELECT domain FROM django_site WHERE id = $1",
            params![opts.site_id],
        )?;
        if site.is_none() {
            bail!("site {} does not exist in django_site", opts.site_id);
        }
        let admin = match opts.admin {
            None => None,
            Some(id) => {
                let Some(r) = db.query_opt(
                    "SELECT username, is_staff FROM auth_user WHERE id = $1",
                    params![id],
                )?
                else {
                    bail!("no administrator with id {id} in auth_user: give an existing --admin");
                };
                let (name, staff): (String, bool) = (r.get(0), r.get(1));
                if !staff {
                    log::warn!(
                        "the admin {name} (id {id}) is not staff: Pod will not show them external recordings"
                    );
                }
                Some(Admin {
                    id,
                    username: name,
                    staff,
                })
            }
        };
        opts.check()?;
        let has_meeting =
            db.table_exists("meeting")? && db.table_exists("meeting_additional_owners")?;
        if !has_meeting {
            log::warn!(
                "Pod's meeting tables are missing: owners of Pod-made sessions are not looked up"
            );
        }
        // Read once: which meetings Pod made and which external recordings exist, so that
        // most records (and every record of a rerun) need at most one statement.
        let mut meeting_ids = HashSet::new();
        if has_meeting {
            for r in db.query("SELECT DISTINCT meeting_id FROM meeting", &[])? {
                meeting_ids.insert(r.get(0));
            }
        }
        let mut known: HashMap<String, Vec<Row>> = HashMap::new();
        for r in db.query(
            "SELECT source_url, owner_id, min(id) FROM import_video_externalrecording \
             WHERE owner_id IS NOT NULL GROUP BY source_url, owner_id",
            &[],
        )? {
            known.entry(r.get(0)).or_default().push(Row {
                owner: r.get(1),
                id: r.get(2),
                created: false,
            });
        }
        if db.engine() == Engine::Postgres {
            // Every statement from here on (ours and the foreign-key checks PostgreSQL runs
            // for each row) is a keyed lookup or an insert, and PostgreSQL caches its plan
            // after a few records. A plan cached while the tables were still empty would
            // scan them whole for every record once they have grown; so this session tells
            // the planner to take the indexes. Only this session.
            db.batch("SET enable_seqscan = off; SET enable_hashjoin = off")?;
        }
        Ok(Importer {
            has_meeting,
            meeting_ids,
            known,
            name_len: column_len(db, "import_video_externalrecording", "name", 250)?,
            url_len: column_len(db, "import_video_externalrecording", "source_url", 500)?,
            opts,
            users,
            admin,
        })
    }

    /// Handles one record; returns the `pod_import` object to add to it. Database
    /// failures that doom the run come back as fatal errors.
    pub fn handle(&mut self, db: &mut Db, tx: &mut Tx, rec: &Record) -> anyhow::Result<Import> {
        let source_url = rec
            .str_field("source_url")?
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .context("no source_url: the recording has no presentation or video playback to import")
            .map(without_token)?;
        if source_url.chars().count() > self.url_len {
            bail!(
                "source_url is longer than Pod's {} characters",
                self.url_len
            );
        }
        let start = rec.required_str("start_time")?;
        let start = parse_rfc3339(start)
            .with_context(|| format!("start_time {start:?} is not an RFC 3339 date"))?;
        // Milliseconds, as bbb-list gives them.
        let start = start
            .with_nanosecond(start.nanosecond() / 1_000_000 * 1_000_000)
            .unwrap_or(start);
        let name = [
            rec.str_field("name")?,
            rec.str_field("meeting_id")?,
            rec.str_field("record_id")?,
        ]
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|s| !s.is_empty())
        .unwrap_or("BigBlueButton recording");
        let name = truncate_chars(name, self.name_len);
        let moderators: Vec<Person> = rec.typed("moderators")?.unwrap_or_default();

        let (source, site, mut owners) = self.owners(db, rec, moderators)?;
        let Some(source) = source else {
            return Ok(Import::without_owners());
        };

        let (rows, users_created) = match self.opts.mode {
            Mode::RemoveDryRun => (self.known_rows(&source_url, &owners), 0),
            Mode::DryRun => {
                for o in owners.iter_mut().filter(|o| o.found.is_none()) {
                    if let Some(p) = &o.person {
                        self.users.check_creatable(p)?;
                    }
                    o.user_status = Status::WouldCreate;
                }
                (self.known_rows(&source_url, &owners), 0)
            }
            Mode::Remove => {
                lock_for_write(db, tx, &[format!("import {source_url}")])?;
                let rows = remove(db, &found_ids(&owners), &source_url)
                    .map_err(|e| e.for_record("Pod"))?;
                if let Some(list) = self.known.get_mut(&source_url) {
                    list.retain(|k| !rows.iter().any(|r| r.owner == k.owner));
                }
                (rows, 0)
            }
            Mode::Import => {
                let missing = owners.iter().any(|o| o.found.is_none());
                let known = self.known_rows(&source_url, &owners);
                if !missing && known.len() == owners.len() {
                    // Every owner already has this recording: nothing to write.
                    return Ok(self.describe(source, site, &owners, &known, 0));
                }
                self.import(db, tx, &mut owners, &source_url, &name, start, site)?
            }
        };
        Ok(self.describe(source, site, &owners, &rows, users_created))
    }

    /// Writes what one record lacks (users, external recordings) and remembers it; returns
    /// the external recordings found or made and the number of users created.
    #[allow(clippy::too_many_arguments)]
    fn import(
        &mut self,
        db: &mut Db,
        tx: &mut Tx,
        owners: &mut [Owner],
        source_url: &str,
        name: &str,
        start: DateTime<Utc>,
        site: i32,
    ) -> anyhow::Result<(Vec<Row>, usize)> {
        // Another host importing the same recording, or creating one of the same users,
        // waits here, then sees the rows.
        let mut keys = vec![format!("import {source_url}")];
        for o in owners.iter().filter(|o| o.found.is_none()) {
            keys.push(format!("user {}", self.users.key(&o.username)));
        }
        lock_for_write(db, tx, &keys)?;
        let (rows, created) = self.write(db, tx, owners, source_url, name, start, site)?;
        for (i, f) in &created {
            owners[*i].found = Some(*f);
            owners[*i].user_status = Status::Created;
        }
        let list = self.known.entry(source_url.to_string()).or_default();
        for r in rows.iter().filter(|r| r.created) {
            list.push(Row {
                created: false,
                ..*r
            });
        }
        for o in owners.iter() {
            if let Some(f) = o.found {
                self.users.remember(&o.username, f);
            }
        }
        Ok((rows, created.len()))
    }

    /// The rows known to exist for these owners (read at start or written since).
    fn known_rows(&self, source_url: &str, owners: &[Owner]) -> Vec<Row> {
        let Some(list) = self.known.get(source_url) else {
            return Vec::new();
        };
        owners
            .iter()
            .filter_map(|o| {
                let id = o.found?.id;
                list.iter().find(|k| k.owner == id).copied()
            })
            .collect()
    }

    /// Writes the record's new users, then the external recordings its owners lack (as
    /// the database has them now, under the record's lock). When a user was created by
    /// someone else since the start, undoes the record's rows, finds that user and tries
    /// once more. Returns the rows and the users created (by owner position).
    #[allow(clippy::too_many_arguments)]
    fn write(
        &mut self,
        db: &mut Db,
        tx: &mut Tx,
        owners: &mut [Owner],
        source_url: &str,
        name: &str,
        start: DateTime<Utc>,
        site: i32,
    ) -> anyhow::Result<Written> {
        let mut retried = false;
        loop {
            match self.try_write(db, owners, source_url, name, start, site) {
                Ok(done) => return Ok(done),
                Err(Failure::Db(e)) if e.kind == ErrorKind::Unique && !retried => {
                    retried = true;
                    tx.undo_record(db)?;
                    for o in owners.iter_mut().filter(|o| o.found.is_none()) {
                        let Some(p) = &o.person else { continue };
                        let found = self.users.find_in_db(db, p).map_err(|e| e.for_record())?;
                        if let Some(f) = found {
                            o.found = Some(f);
                            o.user_status = Status::Exists;
                        }
                    }
                }
                Err(Failure::Db(e)) => return Err(e.for_record("Pod")),
                Err(Failure::Other(e)) => return Err(e),
            }
        }
    }

    /// One attempt of [`Importer::write`].
    fn try_write(
        &mut self,
        db: &mut Db,
        owners: &[Owner],
        source_url: &str,
        name: &str,
        start: DateTime<Utc>,
        site: i32,
    ) -> Result<Written, Failure> {
        let mut created = Vec::new();
        let mut ids = Vec::new();
        for (i, o) in owners.iter().enumerate() {
            match (&o.found, &o.person) {
                (Some(f), _) => ids.push(f.id),
                (None, Some(p)) => {
                    let f = self.users.create(db, p).map_err(|e| match e {
                        crate::pod::users::LookupError::Db(e) => Failure::Db(e),
                        crate::pod::users::LookupError::Other(e) => Failure::Other(e),
                    })?;
                    created.push((i, f));
                    ids.push(f.id);
                }
                (None, None) => {}
            }
        }
        let mut rows = Vec::new();
        if ids.is_empty() {
            return Ok((rows, created));
        }
        let mut values = vec![sql::Value::from(source_url)];
        values.extend(ids.iter().map(|&i| sql::Value::from(i)));
        let existing = db.query(
            &format!(
                "SELECT owner_id, min(id) FROM import_video_externalrecording \
                 WHERE source_url = $1 AND owner_id IN ({}) GROUP BY owner_id",
                Db::list(2, ids.len())
            ),
            &values,
        )?;
        for &owner in &ids {
            if rows.iter().any(|r: &Row| r.owner == owner) {
                continue;
            }
            if let Some(r) = existing.iter().find(|r| r.get::<i32>(0) == owner) {
                rows.push(Row {
                    owner,
                    id: r.get(1),
                    created: false,
                });
                continue;
            }
            let id = db.insert(
                "INSERT INTO import_video_externalrecording \
                 (name, start_at, type, source_url, state, owner_id, site_id, uploaded_to_pod_by_id) \
                 VALUES ($1, $2, 'bigbluebutton', $3, NULL, $4, $5, NULL)",
                params![name, start, source_url, owner, site],
            )?;
            rows.push(Row {
                owner,
                id,
                created: true,
            });
        }
        Ok((rows, created))
    }

    /// Resolves the owners: the Pod meeting's owner and co-owners, else the moderators,
    /// else the admin (unless moderators only). Also returns the site of the rows.
    fn owners(
        &mut self,
        db: &mut Db,
        rec: &Record,
        moderators: Vec<Person>,
    ) -> anyhow::Result<(Option<Source>, i32, Vec<Owner>)> {
        let mid = rec
            .str_field("meeting_id")?
            .filter(|m| self.meeting_ids.contains(*m));
        if let (true, Some(mid)) = (self.has_meeting, mid) {
            let meeting = db
                .query_opt(MEETING, params![mid, self.opts.site_id])
                .map_err(|e| e.for_record("Pod"))?;
            let rows = match meeting {
                Some(m) => db
                    .query(MEETING_OWNERS, params![m.get::<i64>(0)])
                    .map_err(|e| e.for_record("Pod"))?
                    .into_iter()
                    .map(|r| (m.get::<i32>(1), r))
                    .collect(),
                None => Vec::new(),
            };
            if let Some((site, _)) = rows.first() {
                let site = *site;
                let mut owners: Vec<Owner> = Vec::new();
                for (_, r) in &rows {
                    let id: i32 = r.get(0);
                    if owners.iter().any(|o| o.found.is_some_and(|f| f.id == id)) {
                        continue;
                    }
                    owners.push(Owner {
                        username: r.get(1),
                        person: None,
                        found: Some(Found {
                            id,
                            staff: r.get(2),
                        }),
                        user_status: Status::Exists,
                    });
                }
                return Ok((Some(Source::PodMeeting), site, owners));
            }
        }
        let site = self.opts.site_id;
        if !moderators.is_empty() {
            let mut owners: Vec<Owner> = Vec::new();
            for (i, p) in moderators.into_iter().enumerate() {
                if p.username.trim().is_empty() {
                    bail!("moderators[{i}] has no username");
                }
                if owners.iter().any(|o| o.username == p.username) {
                    continue;
                }
                let found = self.users.find(&p)?;
                if found
                    .is_some_and(|f| owners.iter().any(|o| o.found.is_some_and(|g| g.id == f.id)))
                {
                    continue; // two moderators, one Pod user (matched by e-mail)
                }
                owners.push(Owner {
                    username: p.username.clone(),
                    found,
                    user_status: if found.is_some() {
                        Status::Exists
                    } else {
                        Status::Missing
                    },
                    person: Some(p),
                });
            }
            return Ok((Some(Source::Moderators), site, owners));
        }
        match (&self.admin, self.opts.moderators_only) {
            (Some(admin), false) => Ok((
                Some(Source::Admin),
                site,
                vec![Owner {
                    username: admin.username.clone(),
                    person: None,
                    found: Some(Found {
                        id: admin.id,
                        staff: admin.staff,
                    }),
                    user_status: Status::Exists,
                }],
            )),
            _ => Ok((None, site, Vec::new())),
        }
    }

    /// Builds the `pod_import` object from the owners and the rows found, made or removed.
    fn describe(
        &self,
        source: Source,
        site: i32,
        owners: &[Owner],
        rows: &[Row],
        users_created: usize,
    ) -> Import {
        let mode = self.opts.mode;
        let list: Vec<OwnerImport> = owners
            .iter()
            .map(|o| {
                let id = o.found.map(|f| f.id);
                let row = rows.iter().find(|r| Some(r.owner) == id);
                if o.found.is_some_and(|f| !f.staff) && !mode.removes() {
                    log::warn!(
                        "Pod user {} is not staff: Pod will not show them external recordings",
                        o.username
                    );
                }
                OwnerImport {
                    username: o.username.clone(),
                    user_id: id,
                    user: if mode.removes() && o.found.is_none() {
                        Status::Absent
                    } else {
                        o.user_status
                    },
                    external_recording_id: row.map(|r| r.id),
                    external_recording: row_status(mode, row),
                    staff: o.found.map(|f| f.staff),
                }
            })
            .collect();
        let any_row = list.iter().any(|o| o.external_recording_id.is_some());
        let any_created = list.iter().any(|o| o.external_recording == Status::Created);
        let status = match mode {
            Mode::DryRun | Mode::RemoveDryRun => Status::DryRun,
            Mode::Remove if any_row => Status::Removed,
            Mode::Remove => Status::Absent,
            Mode::Import if any_created => Status::Created,
            Mode::Import => Status::Exists,
        };
        Import {
            status,
            reason: None,
            owners_from: Some(source),
            site_id: Some(site),
            owners: list,
            users_created,
        }
    }
}

/// A source URL without its one-time `token` (Scalelite's protected recordings): the token
/// is a secret, spent once, and differs on every listing, so the row of a record must
/// not depend on it.
pub fn without_token(url: &str) -> String {
    let Ok(mut u) = url::Url::parse(url) else {
        return url.to_string();
    };
    if !u.query_pairs().any(|(k, _)| k == "token") {
        return url.to_string();
    }
    let kept: Vec<(String, String)> = u
        .query_pairs()
        .filter(|(k, _)| k != "token")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        u.set_query(None);
    } else {
        u.query_pairs_mut().clear().extend_pairs(kept);
    }
    u.to_string()
}

/// What became of one owner's external recording, given the row found, made or removed.
fn row_status(mode: Mode, row: Option<&Row>) -> Status {
    match (mode, row) {
        (Mode::Remove, Some(_)) => Status::Removed,
        (Mode::Remove | Mode::RemoveDryRun, None) => Status::Absent,
        (Mode::RemoveDryRun, Some(_)) => Status::WouldRemove,
        (Mode::DryRun, Some(_)) => Status::Exists,
        (Mode::DryRun, None) => Status::WouldCreate,
        (Mode::Import, Some(r)) if r.created => Status::Created,
        (Mode::Import, _) => Status::Exists,
    }
}

/// An external recording of one owner: found, made or removed.
#[derive(Debug, Clone, Copy)]
struct Row {
    owner: i32,
    id: i64,
    created: bool,
}

/// What writing a record made: its external recordings (found or made) and the users
/// created, by owner position.
type Written = (Vec<Row>, Vec<(usize, Found)>);

/// Why one attempt to write a record failed.
enum Failure {
    Db(sql::Error),
    Other(anyhow::Error),
}

impl From<sql::Error> for Failure {
    fn from(e: sql::Error) -> Self {
        Failure::Db(e)
    }
}

/// Deletes the external recordings of `source_url` that these owners have (the caller
/// holds the record's lock); returns them.
fn remove(db: &mut Db, owners: &[i32], source_url: &str) -> sql::Result<Vec<Row>> {
    if owners.is_empty() {
        return Ok(Vec::new());
    }
    let mut values = vec![sql::Value::from(source_url)];
    values.extend(owners.iter().map(|&i| sql::Value::from(i)));
    let rows: Vec<Row> = db
        .query(
            &format!(
                "SELECT owner_id, id FROM import_video_externalrecording \
                 WHERE source_url = $1 AND type = 'bigbluebutton' AND owner_id IN ({}) ORDER BY id",
                Db::list(2, owners.len())
            ),
            &values,
        )?
        .iter()
        .map(|r| Row {
            owner: r.get(0),
            id: r.get(1),
            created: false,
        })
        .collect();
    if !rows.is_empty() {
        let ids: Vec<sql::Value> = rows.iter().map(|r| sql::Value::from(r.id)).collect();
        db.execute(
            &format!(
                "DELETE FROM import_video_externalrecording WHERE id IN ({})",
                Db::list(1, ids.len())
            ),
            &ids,
        )?;
    }
    Ok(rows)
}

fn found_ids(owners: &[Owner]) -> Vec<i32> {
    owners
        .iter()
        .filter_map(|o| o.found.map(|f| f.id))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_time_tokens_never_reach_source_url() {
        assert_eq!(
            without_token("https://sl.example.org/playback/presentation/2.3/abc?token=s3cr3t"),
            "https://sl.example.org/playback/presentation/2.3/abc"
        );
        assert_eq!(
            without_token("https://h/p?meetingId=abc&token=s3cr3t"),
            "https://h/p?meetingId=abc"
        );
        assert_eq!(without_token("https://h/p?a=1"), "https://h/p?a=1");
        assert_eq!(without_token("not a url"), "not a url");
    }

    #[test]
    fn pod_import_object_keeps_its_keys_and_order() {
        let skipped = Import::without_owners();
        assert_eq!(
            serde_json::to_string(&skipped).unwrap(),
            r#"{"status":"skipped","reason":"no Pod meeting owner and no moderators","owners":[],"users_created":0}"#
        );
        let owner = |user_id, staff| OwnerImport {
            username: "ana".into(),
            user_id,
            user: Status::Created,
            external_recording_id: Some(9),
            external_recording: Status::WouldCreate,
            staff,
        };
        let done = Import {
            status: Status::Created,
            reason: None,
            owners_from: Some(Source::PodMeeting),
            site_id: Some(1),
            owners: vec![owner(Some(5), Some(true)), owner(None, None)],
            users_created: 1,
        };
        assert_eq!(
            serde_json::to_string(&done).unwrap(),
            concat!(
                r#"{"status":"created","owners_from":"pod_meeting","site_id":1,"owners":["#,
                r#"{"username":"ana","user_id":5,"user":"created","external_recording_id":9,"external_recording":"would-create","staff":true},"#,
                r#"{"username":"ana","user_id":null,"user":"created","external_recording_id":9,"external_recording":"would-create"}"#,
                r#"],"users_created":1}"#
            )
        );
    }
}
