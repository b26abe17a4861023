//! The moodle-moderators stage: routes each record to the Moodle database of its origin
//! server, finds its activity and moderators one batch at a time, adds `moodle` and
//! `moderators`.

use super::config::{DEFAULT, DbEntry, Tables};
use super::expand;
use super::lookup::{self, Key};
use super::meetingid;
use super::rules::{self, Parsed};
use super::site::{Settings, Site, Use};
use crate::batch::Pending;
use crate::cli::Out;
use crate::outcome::Status;
use crate::record::Record;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};

/// How the stage is configured.
pub struct Options {
    /// The Moodle databases, by origin server name.
    pub dbs: Vec<DbEntry>,
    /// Table naming of every database.
    pub tables: Tables,
    /// Origin servers that are not Moodle: their records pass with `moodle: null`.
    pub ignore: Vec<String>,
    /// Count site admins as moderators of every activity (as Moodle does).
    pub site_admins: bool,
}

/// The stage, holding one connection per database once used.
pub struct Enricher {
    opts: Options,
    sites: HashMap<usize, (Site, Settings)>,
    warned: HashSet<String>,
}

/// The activity found for a record and its moderators, as the record will carry them.
struct Hit {
    moodle: Value,
    moderators: Value,
}

enum Route {
    Failed(anyhow::Error),
    Ignored,
    NoDb,
    Site(usize, Key),
}

impl Enricher {
    /// A stage that connects lazily, on the first record for each database.
    pub fn new(opts: Options) -> Enricher {
        Enricher {
            opts,
            sites: HashMap::new(),
            warned: HashSet::new(),
        }
    }

    /// Statements sent to all databases so far.
    pub fn queries(&self) -> u64 {
        self.sites.values().map(|(s, _)| s.queries).sum()
    }

    /// Databases connected so far.
    pub fn connected(&self) -> usize {
        self.sites.len()
    }

    /// Says (with -v) how many queries the run sent.
    pub fn log_queries(&self) {
        log::info!(
            "{} queries on {} database(s)",
            self.queries(),
            self.connected()
        );
    }

    /// Handles one batch: a read-only transaction and four queries per database that has
    /// records in it, then every record emitted (or failed) in input order.
    pub fn process(&mut self, out: &mut Out, batch: Vec<Pending>) -> anyhow::Result<()> {
        let routes: Vec<Route> = batch.iter().map(|p| self.route(&p.rec)).collect();
        let mut per_site: HashMap<usize, Vec<usize>> = HashMap::new();
        for (i, r) in routes.iter().enumerate() {
            if let Route::Site(s, _) = r {
                per_site.entry(*s).or_default().push(i);
            }
        }
        let mut results: HashMap<usize, Hit> = HashMap::new();
        let mut sites: Vec<usize> = per_site.keys().copied().collect();
        sites.sort_unstable();
        for s in sites {
            let idx = &per_site[&s];
            let keys: Vec<Key> = idx
                .iter()
                .filter_map(|i| match &routes[*i] {
                    Route::Site(_, k) => Some(k.clone()),
                    _ => None,
                })
                .collect();
            let found = self.lookup_site(s, &keys)?;
            for (i, hit) in idx.iter().zip(found) {
                if let Some(hit) = hit {
                    results.insert(*i, hit);
                }
            }
        }
        for (i, (p, route)) in batch.into_iter().zip(routes).enumerate() {
            let Pending { line, mut rec } = p;
            let (moodle, mods, status) = match route {
                Route::Failed(e) => {
                    out.fail(line, Some(&rec), &e)?;
                    continue;
                }
                Route::Ignored => (Value::Null, json!([]), Status::Ignored),
                Route::NoDb => (Value::Null, json!([]), Status::NoDatabase),
                Route::Site(..) => match results.remove(&i) {
                    Some(hit) => (hit.moodle, hit.moderators, Status::Found),
                    None => {
                        log::info!("record {}: no Moodle activity found", rec.id_for_messages());
                        (Value::Null, json!([]), Status::NotFound)
                    }
                },
            };
            // An ignored origin keeps what an earlier run (another site naming) found.
            if status != Status::Ignored || !rec.0.contains_key("moodle") {
                rec.set("moodle", moodle);
            }
            if status != Status::Ignored || !rec.0.contains_key("moderators") {
                let mods = with_others_kept(mods, rec.0.get("moderators"));
                rec.set("moderators", mods);
            }
            out.emit(&rec)?;
            out.count(status.as_str());
        }
        Ok(())
    }

    fn route(&mut self, rec: &Record) -> Route {
        let record_id = match rec.required_str("record_id") {
            Ok(r) => r.to_string(),
            Err(e) => return Route::Failed(e),
        };
        let meeting = match rec.str_field("meeting_id") {
            Ok(m) => m.and_then(meetingid::parse),
            Err(e) => return Route::Failed(e),
        };
        // Both go to the database as query parameters, which cannot hold a NUL.
        if record_id.contains('\0') || meeting.as_ref().is_some_and(|m| m.seed.contains('\0')) {
            return Route::Failed(anyhow::anyhow!(
                "the record holds a NUL character (\\u0000), which the database cannot store"
            ));
        }
        let origin = match origin_server(rec) {
            Ok(o) => o,
            Err(e) => return Route::Failed(e),
        };
        // `default` names the recordings without an origin server, as in --db.
        let name = origin.as_deref().unwrap_or(DEFAULT);
        if self
            .opts
            .ignore
            .iter()
            .any(|i| i.eq_ignore_ascii_case(name))
        {
            return Route::Ignored;
        }
        match self
            .opts
            .dbs
            .iter()
            .position(|d| d.name.eq_ignore_ascii_case(name))
        {
            Some(s) => Route::Site(s, Key { record_id, meeting }),
            None => {
                if self.warned.insert(format!("origin {name}")) {
                    log::warn!(
                        "no Moodle database for origin server {name:?} (first seen on record {record_id}): \
                         its recordings get moodle: null (add --db {name}=CONNINFO, or --ignore-origin-server {name})"
                    );
                }
                Route::NoDb
            }
        }
    }

    /// The `moodle` and `moderators` values of each key of one database (None when not found).
    fn lookup_site(&mut self, s: usize, keys: &[Key]) -> anyhow::Result<Vec<Option<Hit>>> {
        if !self.sites.contains_key(&s) {
            let entry = &self.opts.dbs[s];
            let how = Use {
                tool: "moodle-moderators",
                lock_timeout: None,
                writes: false,
            };
            let mut site = Site::connect(entry, &self.opts.tables, how)?;
            let settings = snapshot(&mut site, Site::settings)?;
            if !site.has_recordings {
                log::info!(
                    "Moodle database {}: no bigbluebuttonbn_recordings table (Moodle before 4.0): matching by meetingID only",
                    entry.name
                );
            }
            self.sites.insert(s, (site, settings));
        }
        let admins = self.opts.site_admins;
        let Some((site, settings)) = self.sites.get_mut(&s) else {
            unreachable!("connected above")
        };
        let warned = &mut self.warned;
        let (found, acts, mods) = snapshot(site, |site| {
            let found = lookup::find(site, keys)?;
            let mut ids: Vec<i64> = found.iter().flatten().map(|(id, _)| *id).collect();
            ids.sort_unstable();
            ids.dedup();
            let acts = lookup::activities(site, &ids)?;
            let grants = grants_of(&acts, settings, &site.name, warned);
            let no_admins = Vec::new();
            let siteadmins = if admins {
                &settings.siteadmins
            } else {
                &no_admins
            };
            let mods = expand::moderators(site, &acts, &grants, siteadmins)?;
            Ok((found, acts, mods))
        })?;
        let name = site.name.as_str();
        Ok(found
            .into_iter()
            .map(|hit| {
                let (id, by) = hit?;
                let a = acts.get(&id)?;
                let moodle = json!({
                    "server": name,
                    "activity_id": a.id,
                    "course_id": a.course,
                    "course_shortname": a.course_shortname,
                    "activity_name": a.name,
                    "matched_by": by.as_str(),
                });
                let m: Vec<Value> = mods
                    .get(&id)
                    .map(|v| v.iter().map(expand::Moderator::to_json).collect())
                    .unwrap_or_default();
                Some(Hit {
                    moodle,
                    moderators: Value::Array(m),
                })
            })
            .collect())
    }
}

/// The grants of each activity by its participant rules (a warning, once per activity, for
/// rules that are not JSON).
fn grants_of(
    acts: &HashMap<i64, lookup::Activity>,
    settings: &Settings,
    name: &str,
    warned: &mut HashSet<String>,
) -> HashMap<i64, Vec<rules::Grant>> {
    let mut grants = HashMap::new();
    for a in acts.values() {
        let parsed = rules::parse(a.participants.as_deref());
        if let Parsed::Invalid(e) = &parsed
            && warned.insert(format!("json {name} {}", a.id))
        {
            log::warn!(
                "Moodle database {name}: activity {} has participant rules that are not JSON ({e}): \
                 using the site default, as Moodle does",
                a.id
            );
        }
        grants.insert(
            a.id,
            rules::grants(&parsed, settings, a.owner, a.owner_enrolled),
        );
    }
    grants
}

/// Runs `f` in a read-only transaction that sees one snapshot of the site's database.
fn snapshot<T>(
    site: &mut Site,
    f: impl FnOnce(&mut Site) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    if let Err(e) = site.db.begin_snapshot() {
        return Err(site.fail(e));
    }
    let v = f(site)?;
    if let Err(e) = site.db.commit() {
        return Err(site.fail(e));
    }
    Ok(v)
}

/// The record's `origin_server`, or its metadata `bbb-origin-server-name` (any case) when
/// the record has no `origin_server` key; None when neither is there.
pub fn origin_server(rec: &Record) -> anyhow::Result<Option<String>> {
    if rec.0.contains_key("origin_server") {
        return Ok(rec
            .str_field("origin_server")?
            .filter(|s| !s.is_empty())
            .map(String::from));
    }
    Ok(rec
        .0
        .get("metadata")
        .and_then(Value::as_object)
        .and_then(|m| {
            m.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("bbb-origin-server-name"))
                .and_then(|(_, v)| v.as_str())
        })
        .filter(|s| !s.is_empty())
        .map(String::from))
}

/// True for the `source` of a moderator that moodle-moderators itself found.
fn from_moodle(source: &str) -> bool {
    matches!(source, "user" | "owner" | "all" | "siteadmin") || source.starts_with("role:")
}

/// Moodle's moderators, then the entries another stage added before this one (Greenlight
/// owners, a jq step) whose username Moodle did not give: rerunning replaces only what
/// Moodle gave, so `greenlight-owners | moodle-moderators` keeps the Greenlight owners.
fn with_others_kept(moodle: Value, before: Option<&Value>) -> Value {
    let Value::Array(mut list) = moodle else {
        return moodle;
    };
    let Some(Value::Array(before)) = before else {
        return Value::Array(list);
    };
    let username = |m: &Value| {
        m.get("username")
            .and_then(Value::as_str)
            .map(str::to_lowercase)
    };
    for m in before {
        let source = m.get("source").and_then(Value::as_str).unwrap_or("");
        if from_moodle(source) {
            continue;
        }
        let name = username(m);
        if name.is_some() && list.iter().any(|x| username(x) == name) {
            continue;
        }
        list.push(m.clone());
    }
    Value::Array(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moodle_moderators_first_then_the_others_kept_once() {
        let moodle = json!([{"username": "Alice", "source": "owner"}]);
        let before = json!([
            {"username": "old", "source": "role:editingteacher"},
            {"username": "alice", "source": "greenlight:owner"},
            {"username": "bob", "source": "greenlight:shared"},
            {"username": "carol", "source": "jq"},
        ]);
        let merged = with_others_kept(moodle.clone(), Some(&before));
        let names: Vec<&str> = merged
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["username"].as_str().unwrap())
            .collect();
        // Moodle's own earlier finding ("old") is replaced, Alice is not doubled.
        assert_eq!(names, ["Alice", "bob", "carol"]);
        // A rerun on its own output changes nothing.
        assert_eq!(with_others_kept(moodle, Some(&merged)), merged);
    }
}
