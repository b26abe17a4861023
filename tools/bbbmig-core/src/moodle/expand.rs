//! From the grants of many activities to their moderators: two queries per batch (role
//! assignments in the relevant contexts, then users by id), deleted and suspended users left
//! out, each moderator once, in a stable order.

use super::config::Tables;
use super::lookup::Activity;
use super::rules::Grant;
use super::site::{Meter, run};
use postgres::GenericClient;
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};

/// A Moodle user who moderates an activity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moderator {
    /// `mdl_user.id` (ordering tie-break, not emitted).
    pub id: i64,
    /// Login name.
    pub username: String,
    /// E-mail address.
    pub email: String,
    /// First name.
    pub firstname: String,
    /// Last name.
    pub lastname: String,
    /// Why: `user`, `owner`, `role:<shortname>`, `all` or `siteadmin`.
    pub source: String,
}

impl Moderator {
    /// The record's form: `{username, email, firstname, lastname, source}`.
    pub fn to_json(&self) -> Value {
        json!({
            "username": self.username,
            "email": self.email,
            "firstname": self.firstname,
            "lastname": self.lastname,
            "source": self.source,
        })
    }
}

#[derive(Clone)]
struct User {
    id: i64,
    username: String,
    email: String,
    firstname: String,
    lastname: String,
}

/// Expands the grants of each activity (`activity id → grants`) into moderators.
/// `siteadmins` are added to every activity when given.
pub fn moderators(
    c: &mut impl GenericClient,
    queries: &mut Meter,
    site: &str,
    t: &Tables,
    activities: &HashMap<i64, Activity>,
    grants: &HashMap<i64, Vec<Grant>>,
    siteadmins: &[i64],
) -> anyhow::Result<HashMap<i64, Vec<Moderator>>> {
    // What to fetch for the whole batch.
    let mut ctxs = BTreeSet::new();
    let mut roles = BTreeSet::new();
    let mut all_ctxs = BTreeSet::new();
    let mut user_ids: BTreeSet<i64> = siteadmins.iter().copied().collect();
    for (id, gs) in grants {
        let Some(a) = activities.get(id) else {
            continue;
        };
        for g in gs {
            match g {
                Grant::User(u) | Grant::Owner(u) => {
                    user_ids.insert(*u);
                }
                Grant::Role(r, _) => {
                    roles.insert(*r);
                    ctxs.extend(a.ctx_path.iter().copied());
                }
                Grant::All => {
                    all_ctxs.extend(a.member_ctxs.iter().copied());
                    ctxs.extend(a.member_ctxs.iter().copied());
                }
            }
        }
    }
    let (ctxs, roles, all_ctxs): (Vec<i64>, Vec<i64>, Vec<i64>) = (
        ctxs.into_iter().collect(),
        roles.into_iter().collect(),
        all_ctxs.into_iter().collect(),
    );
    let sql = format!(
        "SELECT ra.contextid::bigint, ra.roleid::bigint, u.id::bigint, u.username::text,
                u.email::text, u.firstname::text, u.lastname::text
           FROM {ra} ra JOIN {user} u ON u.id = ra.userid AND u.deleted = 0 AND u.suspended = 0
          WHERE ra.contextid = ANY($1) AND (ra.roleid = ANY($2) OR ra.contextid = ANY($3))",
        ra = t.t("role_assignments"),
        user = t.t("user")
    );
    // context id → (role id, user) of the assignments there
    let mut by_ctx: HashMap<i64, Vec<(i64, User)>> = HashMap::new();
    for r in run(c, queries, site, &sql, &[&ctxs, &roles, &all_ctxs])? {
        by_ctx
            .entry(r.get(0))
            .or_default()
            .push((r.get(1), user_of(&r, 2)));
    }
    let at = |ctx: &i64| by_ctx.get(ctx).map(Vec::as_slice).unwrap_or_default();
    let sql = format!(
        "SELECT u.id::bigint, u.username::text, u.email::text, u.firstname::text, u.lastname::text
           FROM {user} u WHERE u.id = ANY($1) AND u.deleted = 0 AND u.suspended = 0",
        user = t.t("user")
    );
    let ids: Vec<i64> = user_ids.into_iter().collect();
    let users: HashMap<i64, User> = run(c, queries, site, &sql, &[&ids])?
        .iter()
        .map(|r| {
            let u = user_of(r, 0);
            (u.id, u)
        })
        .collect();

    let mut out = HashMap::new();
    for (id, gs) in grants {
        let Some(a) = activities.get(id) else {
            continue;
        };
        // (rank, user, source): explicit users and the owner first, then roles in rule
        // order, then `all`, then site admins; by name within a rank.
        let mut found: Vec<(usize, User, String)> = Vec::new();
        for (i, g) in gs.iter().enumerate() {
            match g {
                Grant::User(u) => found.extend(users.get(u).map(|u| (0, u.clone(), "user".into()))),
                Grant::Owner(u) => {
                    found.extend(users.get(u).map(|u| (0, u.clone(), "owner".into())))
                }
                Grant::Role(r, short) => {
                    for (role, u) in a.ctx_path.iter().flat_map(at) {
                        if role == r {
                            found.push((1 + i, u.clone(), format!("role:{short}")));
                        }
                    }
                }
                Grant::All => {
                    for (_, u) in a.member_ctxs.iter().flat_map(at) {
                        found.push((1000, u.clone(), "all".into()));
                    }
                }
            }
        }
        for s in siteadmins {
            found.extend(users.get(s).map(|u| (1001, u.clone(), "siteadmin".into())));
        }
        found.sort_by(|x, y| {
            (x.0, &x.1.lastname, &x.1.firstname, &x.1.username, x.1.id).cmp(&(
                y.0,
                &y.1.lastname,
                &y.1.firstname,
                &y.1.username,
                y.1.id,
            ))
        });
        let mut seen = BTreeSet::new();
        let mods: Vec<Moderator> = found
            .into_iter()
            .filter(|(_, u, _)| seen.insert(u.id))
            .map(|(_, u, source)| Moderator {
                id: u.id,
                username: u.username,
                email: u.email,
                firstname: u.firstname,
                lastname: u.lastname,
                source,
            })
            .collect();
        out.insert(*id, mods);
    }
    Ok(out)
}

fn user_of(r: &postgres::Row, at: usize) -> User {
    User {
        id: r.get(at),
        username: r.get(at + 1),
        email: r.get(at + 2),
        firstname: r.get(at + 3),
        lastname: r.get(at + 4),
    }
}
