//! "My external recordings": one `import_video_externalrecording` per owner of each
//! recording (the Pod meeting's owners, else the record's moderators, else the admin),
//! with the missing users created, all of one record in one transaction; `--remove`
//! takes those rows out again.

use crate::pod::users::{Found, LookupError, NEW_USERS_SQL, NewUsers, Person, Users};
use crate::pod::{classify, column_len, truncate_chars};
use crate::record::Record;
use crate::timefmt::parse_rfc3339;
use anyhow::{Context, bail};
use chrono::SecondsFormat;
use postgres::{Client, Statement};
use serde_json::{Value, json};
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
#[derive(Debug, Clone, Copy, PartialEq)]
enum Source {
    PodMeeting,
    Moderators,
    Admin,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Source::PodMeeting => "pod_meeting",
            Source::Moderators => "moderators",
            Source::Admin => "admin",
        }
    }
}

/// One owner of a record, found or still to create.
struct Owner {
    username: String,
    person: Option<Person>,
    found: Option<Found>,
    user_status: &'static str,
}

/// The external recordings of one record, as common table expressions: one per owner
/// that has none with this source_url (Pod's own rule). Parameters from `$n`: existing
/// owners and their positions, source_url, name, start, site. With `new_users`, the users
/// made by [`NEW_USERS_SQL`] (`u`, `p`) are owners too. Returns (owner, row id, created,
/// NULL) per external recording, and (user id, 0, false, username) per new user.
fn ext_sql(n: usize, new_users: bool) -> String {
    let (ids, pos, url, name, start, site) = (n, n + 1, n + 2, n + 3, n + 4, n + 5);
    let (more_owners, more_rows) = if new_users {
        (
            "UNION ALL SELECT u.id, p.pos FROM u JOIN p ON p.username = u.username",
            "UNION ALL SELECT id, 0::int8, false, username FROM u",
        )
    } else {
        ("", "")
    };
    format!(
        "ow AS (SELECT x.owner_id, x.pos FROM unnest(${ids}::int4[], ${pos}::int4[]) AS x(owner_id, pos)
       {more_owners}),
ex AS (SELECT DISTINCT ON (e.owner_id) e.owner_id, e.id
       FROM ow JOIN import_video_externalrecording e ON e.owner_id = ow.owner_id
       WHERE e.source_url = ${url} ORDER BY e.owner_id, e.id),
ins AS (INSERT INTO import_video_externalrecording
          (name, start_at, type, source_url, state, owner_id, site_id, uploaded_to_pod_by_id)
        SELECT ${name}, ${start}::text::timestamptz, 'bigbluebutton', ${url}, NULL, ow.owner_id, ${site}, NULL
        FROM ow WHERE NOT EXISTS (SELECT 1 FROM ex WHERE ex.owner_id = ow.owner_id)
        ORDER BY ow.pos
        RETURNING owner_id, id)
SELECT owner_id, id, false, NULL::text FROM ex
UNION ALL SELECT owner_id, id, true, NULL::text FROM ins
{more_rows}"
    )
}

const MEETING: &str = "
SELECT m.site_id, u.id, u.username, u.is_staff
FROM meeting m
CROSS JOIN LATERAL (SELECT m.owner_id AS uid, 0::bigint AS ord
                    UNION ALL SELECT a.user_id, a.id FROM meeting_additional_owners a
                    WHERE a.meeting_id = m.id) x
JOIN auth_user u ON u.id = x.uid
WHERE m.id = (SELECT id FROM meeting WHERE meeting_id = $1
              ORDER BY (site_id = $2) DESC, start_at DESC LIMIT 1)
ORDER BY x.ord";

/// Imports records one at a time.
pub struct Importer {
    opts: ImportOptions,
    users: Users,
    admin: Option<(i32, String, bool)>,
    meeting: Option<Statement>,
    meeting_ids: HashSet<String>,
    known: HashMap<String, Vec<(i32, i64)>>,
    write: Statement,
    upsert: Statement,
    remove: Statement,
    name_len: usize,
    url_len: usize,
}

impl Importer {
    /// Checks the set-up (site and admin exist) and prepares the statements; errors
    /// here are fatal.
    pub fn new(client: &mut Client, opts: ImportOptions, users: Users) -> anyhow::Result<Importer> {
        let site = client.query_opt(
            "SELECT domain FROM django_site WHERE id = $1",
            &[&opts.site_id],
        )?;
        if site.is_none() {
            bail!("site {} does not exist in django_site", opts.site_id);
        }
        let admin = match opts.admin {
            None => None,
            Some(id) => {
                let Some(r) = client.query_opt(
                    "SELECT username, is_staff FROM auth_user WHERE id = $1",
                    &[&id],
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
                Some((id, name, staff))
            }
        };
        if admin.is_none() && !opts.moderators_only && opts.mode != Mode::Remove {
            bail!("give --admin ID (receives recordings with no known owner) or --moderators-only");
        }
        let has_meeting: bool = client
            .query_one("SELECT to_regclass('meeting') IS NOT NULL AND to_regclass('meeting_additional_owners') IS NOT NULL", &[])?
            .get(0);
        if !has_meeting {
            log::warn!(
                "Pod's meeting tables are missing: owners of Pod-made sessions are not looked up"
            );
        }
        // Read once: which meetings Pod made and which external recordings exist, so that
        // most records (and every record of a rerun) need at most one statement.
        let mut meeting_ids = HashSet::new();
        if has_meeting {
            for r in client.query("SELECT DISTINCT meeting_id FROM meeting", &[])? {
                meeting_ids.insert(r.get(0));
            }
        }
        let mut known: HashMap<String, Vec<(i32, i64)>> = HashMap::new();
        for r in client.query(
            "SELECT source_url, owner_id, min(id) FROM import_video_externalrecording \
             WHERE owner_id IS NOT NULL GROUP BY source_url, owner_id",
            &[],
        )? {
            known
                .entry(r.get(0))
                .or_default()
                .push((r.get(1), r.get(2)));
        }
        // From here on every statement (ours and the foreign-key checks PostgreSQL runs for
        // each row) is a keyed lookup or an insert, and PostgreSQL caches its plan after a
        // few records. A plan cached while the tables were still empty would scan them whole
        // for every record once they have grown (15 s instead of 5 for 10,000 records);
        // re-planning every statement (plan_cache_mode = force_custom_plan) costs as much.
        // So this session tells the planner to take the indexes. Only this session.
        client.batch_execute("SET enable_seqscan = off; SET enable_hashjoin = off")?;
        Ok(Importer {
            meeting: if has_meeting {
                Some(client.prepare(MEETING)?)
            } else {
                None
            },
            meeting_ids,
            known,
            // Everything one record writes is one statement: one transaction, one round trip.
            write: client.prepare(&format!("WITH {NEW_USERS_SQL},{}", ext_sql(13, true)))?,
            upsert: client.prepare(&format!("WITH {}", ext_sql(1, false)))?,
            remove: client.prepare(
                "DELETE FROM import_video_externalrecording \
                 WHERE source_url = $2 AND owner_id = ANY($1::int4[]) AND type = 'bigbluebutton' \
                 RETURNING owner_id, id, false",
            )?,
            name_len: column_len(client, "import_video_externalrecording", "name", 250)?,
            url_len: column_len(client, "import_video_externalrecording", "source_url", 500)?,
            opts,
            users,
            admin,
        })
    }

    /// Handles one record; returns the `pod_import` object to add to it. Database
    /// failures that doom the run come back as fatal errors.
    pub fn handle(&mut self, client: &mut Client, rec: &Record) -> anyhow::Result<Value> {
        let source_url = rec
            .str_field("source_url")?
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .context(
                "no source_url: the recording has no presentation or video playback to import",
            )?
            .to_string();
        if source_url.chars().count() > self.url_len {
            bail!(
                "source_url is longer than Pod's {} characters",
                self.url_len
            );
        }
        let start = rec.required_str("start_time")?;
        let start = parse_rfc3339(start)
            .with_context(|| format!("start_time {start:?} is not an RFC 3339 date"))?
            .to_rfc3339_opts(SecondsFormat::Millis, true);
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

        let (source, site, mut owners) = self.owners(client, rec, moderators)?;
        let Some(source) = source else {
            return Ok(
                json!({"status": "skipped", "reason": "no Pod meeting owner and no moderators",
                             "owners": [], "users_created": 0}),
            );
        };

        let mut users_created = 0;
        let rows = match self.opts.mode {
            Mode::DryRun => {
                for o in owners.iter_mut().filter(|o| o.found.is_none()) {
                    if let Some(p) = &o.person {
                        self.users.check_creatable(p)?;
                    }
                    o.user_status = "would-create";
                }
                self.known_rows(&source_url, &owners)
            }
            Mode::Remove => {
                let ids = found_ids(&owners);
                let rows: Vec<Row> = client
                    .query(&self.remove, &[&ids, &source_url])
                    .map_err(|e| classify(client, e))?
                    .iter()
                    .map(Row::from)
                    .collect();
                if let Some(list) = self.known.get_mut(&source_url) {
                    list.retain(|(o, _)| !rows.iter().any(|r| r.owner == *o));
                }
                rows
            }
            Mode::Import => {
                let missing = owners.iter().any(|o| o.found.is_none());
                let known = self.known_rows(&source_url, &owners);
                if !missing && known.len() == owners.len() {
                    // Every owner already has this recording: nothing to write.
                    return Ok(self.describe(source, site, &owners, &known, 0));
                }
                let result = self.write(client, &mut owners, &source_url, &name, &start, site)?;
                let staff = self.users.options().staff;
                let mut rows = Vec::new();
                for r in &result {
                    match r.get::<_, Option<String>>(3) {
                        Some(username) => {
                            if let Some(o) = owners
                                .iter_mut()
                                .find(|o| o.found.is_none() && o.username == username)
                            {
                                o.found = Some(Found {
                                    id: r.get(0),
                                    staff,
                                });
                                o.user_status = "created";
                                users_created += 1;
                            }
                        }
                        None => rows.push(Row::from(r)),
                    }
                }
                let list = self.known.entry(source_url.clone()).or_default();
                for r in rows.iter().filter(|r| r.created) {
                    list.push((r.owner, r.id));
                }
                for o in &owners {
                    if let Some(f) = o.found {
                        self.users.remember(&o.username, f);
                    }
                }
                rows
            }
        };
        Ok(self.describe(source, site, &owners, &rows, users_created))
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
                let (_, ext) = list.iter().find(|(owner, _)| *owner == id)?;
                Some(Row {
                    owner: id,
                    id: *ext,
                    created: false,
                })
            })
            .collect()
    }

    /// Writes the record's new users and external recordings in one statement. When a
    /// user was created by someone else since the start, finds it and tries once more.
    fn write(
        &mut self,
        client: &mut Client,
        owners: &mut [Owner],
        source_url: &str,
        name: &str,
        start: &str,
        site: i32,
    ) -> anyhow::Result<Vec<postgres::Row>> {
        let mut retried = false;
        loop {
            let mut new = NewUsers::default();
            let (mut ids, mut positions) = (Vec::new(), Vec::new());
            for (i, o) in owners.iter().enumerate() {
                match (&o.found, &o.person) {
                    (Some(f), _) => {
                        ids.push(f.id);
                        positions.push(i as i32);
                    }
                    (None, Some(p)) => self.users.add_new(&mut new, p, i as i32)?,
                    (None, None) => {}
                }
            }
            let u = self.users.options();
            let res = if new.usernames.is_empty() {
                client.query(
                    &self.upsert,
                    &[&ids, &positions, &source_url, &name, &start, &site],
                )
            } else {
                client.query(
                    &self.write,
                    &[
                        &new.usernames,
                        &new.first_names,
                        &new.last_names,
                        &new.emails,
                        &new.hashkeys,
                        &new.positions,
                        &u.staff,
                        &u.auth_type.as_str(),
                        &u.affiliation,
                        &u.establishment,
                        &u.site_id,
                        &u.favorites_description,
                        &ids,
                        &positions,
                        &source_url,
                        &name,
                        &start,
                        &site,
                    ],
                )
            };
            match res {
                Ok(rows) => return Ok(rows),
                Err(e)
                    if !retried
                        && !new.usernames.is_empty()
                        && e.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION) =>
                {
                    retried = true;
                    for o in owners.iter_mut().filter(|o| o.found.is_none()) {
                        let Some(p) = &o.person else { continue };
                        let found = self.users.find_in_db(client, p).map_err(|e| match e {
                            LookupError::Db(e) => classify(client, e),
                            LookupError::Other(e) => e,
                        })?;
                        if let Some(f) = found {
                            o.found = Some(f);
                            o.user_status = "exists";
                        }
                    }
                }
                Err(e) => return Err(classify(client, e)),
            }
        }
    }

    /// Resolves the owners: the Pod meeting's owner and co-owners, else the moderators,
    /// else the admin (unless moderators only). Also returns the site of the rows.
    fn owners(
        &mut self,
        client: &mut Client,
        rec: &Record,
        moderators: Vec<Person>,
    ) -> anyhow::Result<(Option<Source>, i32, Vec<Owner>)> {
        let mid = rec
            .str_field("meeting_id")?
            .filter(|m| self.meeting_ids.contains(*m));
        if let (Some(stmt), Some(mid)) = (&self.meeting, mid) {
            let rows = client
                .query(stmt, &[&mid, &self.opts.site_id])
                .map_err(|e| classify(client, e))?;
            if let Some(first) = rows.first() {
                let site: i32 = first.get(0);
                let mut owners: Vec<Owner> = Vec::new();
                for r in &rows {
                    let id: i32 = r.get(1);
                    if owners.iter().any(|o| o.found.is_some_and(|f| f.id == id)) {
                        continue;
                    }
                    owners.push(Owner {
                        username: r.get(2),
                        person: None,
                        found: Some(Found {
                            id,
                            staff: r.get(3),
                        }),
                        user_status: "exists",
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
                    user_status: if found.is_some() { "exists" } else { "missing" },
                    person: Some(p),
                });
            }
            return Ok((Some(Source::Moderators), site, owners));
        }
        match (&self.admin, self.opts.moderators_only) {
            (Some((id, name, staff)), false) => Ok((
                Some(Source::Admin),
                site,
                vec![Owner {
                    username: name.clone(),
                    person: None,
                    found: Some(Found {
                        id: *id,
                        staff: *staff,
                    }),
                    user_status: "exists",
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
    ) -> Value {
        let mut any_created = false;
        let mut any_row = false;
        let list: Vec<Value> = owners
            .iter()
            .map(|o| {
                let id = o.found.map(|f| f.id);
                let row = rows.iter().find(|r| Some(r.owner) == id);
                let ext_id: Option<i64> = row.map(|r| r.id);
                let created = row.is_some_and(|r| r.created);
                any_created |= created;
                any_row |= row.is_some();
                let ext_status = match (self.opts.mode, row.is_some(), created) {
                    (Mode::Remove, true, _) => "removed",
                    (Mode::Remove, false, _) => "absent",
                    (Mode::DryRun, true, _) => "exists",
                    (Mode::DryRun, false, _) => "would-create",
                    (Mode::Import, _, true) => "created",
                    (Mode::Import, _, false) => "exists",
                };
                if o.found.is_some_and(|f| !f.staff) && self.opts.mode != Mode::Remove {
                    log::warn!("Pod user {} is not staff: Pod will not show them external recordings", o.username);
                }
                let mut v = json!({
                    "username": o.username,
                    "user_id": id,
                    "user": if self.opts.mode == Mode::Remove && o.found.is_none() { "absent" } else { o.user_status },
                    "external_recording_id": ext_id,
                    "external_recording": ext_status,
                });
                if let Some(f) = o.found {
                    v["staff"] = json!(f.staff);
                }
                v
            })
            .collect();
        let status = match self.opts.mode {
            Mode::DryRun => "dry-run",
            Mode::Remove if any_row => "removed",
            Mode::Remove => "absent",
            Mode::Import if any_created => "created",
            Mode::Import => "exists",
        };
        json!({
            "status": status,
            "owners_from": source.as_str(),
            "site_id": site,
            "owners": list,
            "users_created": users_created,
        })
    }
}

/// An external recording of one owner: found, made or removed.
struct Row {
    owner: i32,
    id: i64,
    created: bool,
}

impl From<&postgres::Row> for Row {
    fn from(r: &postgres::Row) -> Row {
        Row {
            owner: r.get(0),
            id: r.get(1),
            created: r.get(2),
        }
    }
}

fn found_ids(owners: &[Owner]) -> Vec<i32> {
    owners
        .iter()
        .filter_map(|o| o.found.map(|f| f.id))
        .collect()
}
