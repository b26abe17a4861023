//! The greenlight-owners stage: routes each record to the Greenlight database of its origin
//! server, finds its room(s) one batch at a time (one query per database and batch), adds
//! `greenlight` and appends the room's owner and shared users to `moderators`.

use super::db::GlDb;
use super::owners::{self, Key, Room};
use super::route;
use super::schema::Schema;
use super::{v2, v3};
use crate::batch::Pending;
use crate::cli::Out;
use crate::moodle::config::{DEFAULT, DbEntry};
use crate::outcome::Status;
use crate::record::Record;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};

/// The tool's name, for `application_name`.
const TOOL: &str = "greenlight-owners";

/// How the stage is configured.
pub struct Options {
    /// The Greenlight databases, by origin server name (`default`: records without one).
    pub dbs: Vec<DbEntry>,
    /// Leave shared users out.
    pub owner_only: bool,
}

/// The stage, holding one connection per database once used.
pub struct Owners {
    opts: Options,
    dbs: HashMap<usize, GlDb>,
    warned: HashSet<String>,
}

enum Route {
    Failed(anyhow::Error),
    NoDb,
    Db(usize, Key),
}

/// What a lookup gave one record: its rooms (first = the one described), or nothing.
type Found = Vec<Room>;

impl Owners {
    /// A stage that connects lazily, on the first record for each database.
    pub fn new(opts: Options) -> Owners {
        Owners {
            opts,
            dbs: HashMap::new(),
            warned: HashSet::new(),
        }
    }

    /// Says (with -v) how many queries the run sent.
    pub fn log_queries(&self) {
        let q: u64 = self.dbs.values().map(|d| d.queries).sum();
        log::info!("{q} queries on {} database(s)", self.dbs.len());
    }

    /// Handles one batch: one query per database that has records in it, then every record
    /// emitted (or failed) in input order.
    pub fn process(&mut self, out: &mut Out, batch: Vec<Pending>) -> anyhow::Result<()> {
        let routes: Vec<Route> = batch.iter().map(|p| self.route(&p.rec)).collect();
        let mut per_db: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for (i, r) in routes.iter().enumerate() {
            if let Route::Db(d, _) = r {
                per_db.entry(*d).or_default().push(i);
            }
        }
        let mut found: HashMap<usize, (String, u8, Found)> = HashMap::new();
        for (d, idx) in per_db {
            let keys: Vec<Key> = idx
                .iter()
                .filter_map(|i| match &routes[*i] {
                    Route::Db(_, k) => Some(k.clone()),
                    _ => None,
                })
                .collect();
            let (name, version, rooms) = self.lookup(d, &keys, &batch, &idx)?;
            for (i, r) in idx.into_iter().zip(rooms) {
                found.insert(i, (name.clone(), version, r));
            }
        }
        for (i, (p, route)) in batch.into_iter().zip(routes).enumerate() {
            let Pending { line, mut rec } = p;
            match route {
                Route::Failed(e) => {
                    out.fail(line, Some(&rec), &e)?;
                    continue;
                }
                Route::NoDb => {
                    // An earlier run (another configuration) may have found it: keep that.
                    if !rec.0.contains_key("greenlight") {
                        rec.set("greenlight", Value::Null);
                    }
                    out.count(Status::NoDatabase.as_str());
                }
                Route::Db(..) => {
                    let (server, version, rooms) = found.remove(&i).unwrap_or_default();
                    let add = owners::entries(&rooms, self.opts.owner_only);
                    let mods = match owners::append(rec.0.get("moderators"), add) {
                        Ok(m) => m,
                        Err(e) => {
                            out.fail(line, Some(&rec), &e)?;
                            continue;
                        }
                    };
                    let gl = match rooms.first() {
                        Some(r) => json!({
                            "server": server,
                            "version": version,
                            "room_id": r.id,
                            "friendly_id": r.friendly_id,
                            "room_name": r.name,
                            "matched_by": r.matched_by,
                        }),
                        None => {
                            log::info!(
                                "record {}: no Greenlight room in database {server}",
                                rec.id_for_messages()
                            );
                            Value::Null
                        }
                    };
                    out.count(
                        if gl.is_null() {
                            Status::NotFound
                        } else {
                            Status::Found
                        }
                        .as_str(),
                    );
                    rec.set("moderators", mods);
                    rec.set("greenlight", gl);
                }
            }
            out.emit(&rec)?;
        }
        Ok(())
    }

    fn route(&mut self, rec: &Record) -> Route {
        let origin = match route::origin(rec) {
            Ok(o) => o,
            Err(e) => return Route::Failed(e),
        };
        let name = origin.as_deref().unwrap_or(DEFAULT);
        let Some(d) = self
            .opts
            .dbs
            .iter()
            .position(|d| d.name.eq_ignore_ascii_case(name))
        else {
            if self.warned.insert(format!("origin {name}")) {
                let id = rec.id_for_messages();
                if route::from_greenlight(rec) {
                    log::warn!(
                        "no Greenlight database for origin server {name:?} (first seen on record {id}): \
                         its recordings pass unchanged (add --db {name}=CONNINFO)"
                    );
                } else {
                    log::info!(
                        "no Greenlight database for origin server {name:?} (first seen on record {id})"
                    );
                }
            }
            return Route::NoDb;
        };
        let meeting_id = match rec.required_str("meeting_id") {
            Ok(m) => m.to_string(),
            Err(e) => return Route::Failed(e),
        };
        let record_id = match rec.str_field("record_id") {
            Ok(r) => r.map(String::from),
            Err(e) => return Route::Failed(e),
        };
        Route::Db(
            d,
            Key {
                meeting_id,
                record_id,
            },
        )
    }

    /// Looks the keys up in database `d` (connecting first if needed): its name, version,
    /// and the rooms of each key. `idx` are the keys' places in `batch`, for messages.
    fn lookup(
        &mut self,
        d: usize,
        keys: &[Key],
        batch: &[Pending],
        idx: &[usize],
    ) -> anyhow::Result<(String, u8, Vec<Found>)> {
        if !self.dbs.contains_key(&d) {
            let db = GlDb::connect(&self.opts.dbs[d], TOOL)?;
            log::info!("Greenlight database {}: {}", db.name, db.schema.describe());
            if db.schema == Schema::V2(super::schema::Roles::Unknown) {
                log::warn!(
                    "Greenlight database {}: no roles found (users.role_id or users_roles): banned users cannot be told",
                    db.name
                );
            }
            self.dbs.insert(d, db);
        }
        let Some(db) = self.dbs.get_mut(&d) else {
            unreachable!("connected above")
        };
        let rooms = match db.schema {
            Schema::V2(roles) => v2::find(db, roles, keys)?,
            Schema::V3 { recordings } => {
                let (rooms, other) = v3::find(db, recordings, keys)?;
                for ((r, o), i) in rooms.iter().zip(other).zip(idx) {
                    if let (Some(room), Some(o)) = (r.first(), o) {
                        log::warn!(
                            "record {}: Greenlight database {} lists it in room {o} but its meetingID is room {}'s: {} kept",
                            batch[*i].rec.id_for_messages(),
                            db.name,
                            room.friendly_id,
                            room.friendly_id
                        );
                    }
                }
                rooms
            }
        };
        for (r, i) in rooms.iter().zip(idx) {
            for p in r.iter().flat_map(|r| &r.people) {
                let what = format!("{} {}", db.name, p.user_id);
                if let Some(why) = p.left_out {
                    log::debug!(
                        "record {}: Greenlight user {} left out: {why}",
                        batch[*i].rec.id_for_messages(),
                        p.user_id
                    );
                } else if p.username.is_none() && self.warned.insert(what) {
                    log::warn!(
                        "Greenlight database {}: user {} ({:?}) has no username nor e-mail: left out",
                        db.name,
                        p.user_id,
                        p.name
                    );
                }
            }
        }
        Ok((db.name.clone(), db.schema.version(), rooms))
    }
}
