//! From the grants of many activities to their moderators: two queries per batch (role
//! assignments in the relevant contexts, then users by id), deleted and suspended users left
//! out, each moderator once, in a stable order.

use super::lookup::Activity;
use super::rules::Grant;
use super::site::{Site, in_list};
use crate::db::sql::{self, Row};
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

/// What one batch needs from the database, gathered from the grants of all its activities.
#[derive(Default)]
struct Wanted {
    /// Contexts whose role assignments matter.
    ctxs: Vec<i64>,
    /// Roles granted by rules.
    roles: Vec<i64>,
    /// Contexts where any role counts (`all`).
    all_ctxs: Vec<i64>,
    /// Users named directly (users, owners, site admins).
    user_ids: Vec<i64>,
}

impl Wanted {
    fn of(
        activities: &HashMap<i64, Activity>,
        grants: &HashMap<i64, Vec<Grant>>,
        siteadmins: &[i64],
    ) -> Wanted {
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
        Wanted {
            ctxs: ctxs.into_iter().collect(),
            roles: roles.into_iter().collect(),
            all_ctxs: all_ctxs.into_iter().collect(),
            user_ids: user_ids.into_iter().collect(),
        }
    }
}

/// A role assignment of an active user in some context.
struct Assignment {
    role: i64,
    user: User,
}

/// What the database says about one batch: assignments by context, named users by id.
struct Fetched {
    by_ctx: HashMap<i64, Vec<Assignment>>,
    users: HashMap<i64, User>,
}

impl Fetched {
    /// The two queries of a batch.
    fn read(site: &mut Site, w: &Wanted) -> anyhow::Result<Fetched> {
        let t = site.tables.clone();
        let (a, b, c) = (w.ctxs.len(), w.roles.len(), w.all_ctxs.len());
        let sql = format!(
            "SELECT ra.contextid, ra.roleid, u.id, u.username, u.email, u.firstname, u.lastname
               FROM {ra} ra JOIN {user} u ON u.id = ra.userid AND u.deleted = 0 AND u.suspended = 0
              WHERE ra.contextid IN ({l1}) AND (ra.roleid IN ({l2}) OR ra.contextid IN ({l3}))",
            ra = t.t("role_assignments"),
            user = t.t("user"),
            l1 = in_list(1, a),
            l2 = in_list(a + 1, b),
            l3 = in_list(a + b + 1, c),
        );
        let params: Vec<sql::Value> = w
            .ctxs
            .iter()
            .chain(&w.roles)
            .chain(&w.all_ctxs)
            .map(|i| sql::Value::from(*i))
            .collect();
        let mut by_ctx: HashMap<i64, Vec<Assignment>> = HashMap::new();
        for r in site.query(&sql, &params)? {
            by_ctx.entry(r.get(0)).or_default().push(Assignment {
                role: r.get(1),
                user: user_of(&r, 2),
            });
        }
        let sql = format!(
            "SELECT u.id, u.username, u.email, u.firstname, u.lastname
               FROM {user} u WHERE u.id IN ({list}) AND u.deleted = 0 AND u.suspended = 0",
            user = t.t("user"),
            list = in_list(1, w.user_ids.len()),
        );
        let params: Vec<sql::Value> = w.user_ids.iter().map(|i| sql::Value::from(*i)).collect();
        let users: HashMap<i64, User> = site
            .query(&sql, &params)?
            .iter()
            .map(|r| {
                let u = user_of(r, 0);
                (u.id, u)
            })
            .collect();
        Ok(Fetched { by_ctx, users })
    }

    fn at(&self, ctx: &i64) -> &[Assignment] {
        self.by_ctx.get(ctx).map(Vec::as_slice).unwrap_or_default()
    }

    fn user(&self, id: &i64, rank: usize, source: &str) -> Option<Ranked> {
        self.users.get(id).map(|u| Ranked {
            rank,
            user: u.clone(),
            source: source.into(),
        })
    }

    /// The moderators of one activity: explicit users and the owner first, then roles in
    /// rule order, then `all`, then site admins; by name within a rank; each user once.
    fn moderators(&self, a: &Activity, gs: &[Grant], siteadmins: &[i64]) -> Vec<Moderator> {
        let mut found: Vec<Ranked> = Vec::new();
        for (i, g) in gs.iter().enumerate() {
            match g {
                Grant::User(u) => found.extend(self.user(u, 0, "user")),
                Grant::Owner(u) => found.extend(self.user(u, 0, "owner")),
                Grant::Role(r, short) => {
                    for asg in a.ctx_path.iter().flat_map(|c| self.at(c)) {
                        if asg.role == *r {
                            found.push(Ranked {
                                rank: 1 + i,
                                user: asg.user.clone(),
                                source: format!("role:{short}"),
                            });
                        }
                    }
                }
                Grant::All => {
                    for asg in a.member_ctxs.iter().flat_map(|c| self.at(c)) {
                        found.push(Ranked {
                            rank: 1000,
                            user: asg.user.clone(),
                            source: "all".into(),
                        });
                    }
                }
            }
        }
        for s in siteadmins {
            found.extend(self.user(s, 1001, "siteadmin"));
        }
        found.sort_by(|x, y| x.key().cmp(&y.key()));
        let mut seen = BTreeSet::new();
        found
            .into_iter()
            .filter(|r| seen.insert(r.user.id))
            .map(|r| Moderator {
                id: r.user.id,
                username: r.user.username,
                email: r.user.email,
                firstname: r.user.firstname,
                lastname: r.user.lastname,
                source: r.source,
            })
            .collect()
    }
}

/// A user found for an activity, with the rank of the grant that found them.
struct Ranked {
    rank: usize,
    user: User,
    source: String,
}

impl Ranked {
    fn key(&self) -> (usize, &str, &str, &str, i64) {
        (
            self.rank,
            &self.user.lastname,
            &self.user.firstname,
            &self.user.username,
            self.user.id,
        )
    }
}

/// Expands the grants of each activity (`activity id → grants`) into moderators.
/// `siteadmins` are added to every activity when given.
pub fn moderators(
    site: &mut Site,
    activities: &HashMap<i64, Activity>,
    grants: &HashMap<i64, Vec<Grant>>,
    siteadmins: &[i64],
) -> anyhow::Result<HashMap<i64, Vec<Moderator>>> {
    let wanted = Wanted::of(activities, grants, siteadmins);
    let fetched = Fetched::read(site, &wanted)?;
    Ok(grants
        .iter()
        .filter_map(|(id, gs)| {
            let a = activities.get(id)?;
            Some((*id, fetched.moderators(a, gs, siteadmins)))
        })
        .collect())
}

fn user_of(r: &Row, at: usize) -> User {
    User {
        id: r.get(at),
        username: r.get(at + 1),
        email: r.get(at + 2),
        firstname: r.get(at + 3),
        lastname: r.get(at + 4),
    }
}
