//! Greenlight v2: every live room whose `bbb_id` is the meetingID (several rooms can share
//! one), its owner and the users it is shared with. One query per batch. Ids are read as
//! bigint whatever their width (both physical forms of the v2 schema exist).

use super::db::GlDb;
use super::owners::{self, Key, Person, Room};
use super::schema::Roles;
use serde_json::json;

/// The live rooms of each key (same order), people included, deleted and banned users
/// marked as left out.
pub fn find(db: &mut GlDb, roles: Roles, keys: &[Key]) -> anyhow::Result<Vec<Vec<Room>>> {
    let role = match roles {
        Roles::Column => "(SELECT rl.name::text FROM roles rl WHERE rl.id = u.role_id)",
        Roles::JoinTable => {
            "(SELECT rl.name::text FROM users_roles ur JOIN roles rl ON rl.id = ur.role_id
               WHERE ur.user_id = u.id ORDER BY rl.name = 'denied' DESC LIMIT 1)"
        }
        Roles::Unknown => "NULL::text",
    };
    let sql = format!(
        "SELECT k.ord::bigint, r.id::bigint, r.uid::text, r.name::text, m.shared,
                u.id::bigint, u.username::text, u.email::text, u.name::text, u.deleted, {role}
           FROM unnest($1::text[]) WITH ORDINALITY AS k(mid, ord)
           JOIN rooms r ON r.bbb_id = k.mid AND r.deleted = false
           CROSS JOIN LATERAL (
                SELECT false AS shared, 0::bigint AS sid, r.user_id::bigint AS uid
                UNION ALL
                SELECT true, sa.id::bigint, sa.user_id::bigint
                  FROM shared_accesses sa WHERE sa.room_id = r.id) m
           LEFT JOIN users u ON u.id = m.uid
          ORDER BY k.ord, r.id, m.shared, m.sid"
    );
    let mids: Vec<&str> = keys.iter().map(|k| k.meeting_id.as_str()).collect();
    let rows = db.query(&sql, &[&mids])?;
    Ok(owners::group(
        keys.len(),
        rows.iter().map(|r| {
            let room = Room {
                id: json!(r.get::<_, i64>(1)),
                friendly_id: r.get::<_, Option<String>>(2).unwrap_or_default(),
                name: r.get::<_, Option<String>>(3).unwrap_or_default(),
                matched_by: "meetingid",
                people: Vec::new(),
            };
            let person = r.get::<_, Option<i64>>(5).map(|id| {
                let deleted: bool = r.get(9);
                let role: Option<String> = r.get(10);
                Person {
                    user_id: id.to_string(),
                    shared: r.get(4),
                    username: owners::present(r.get(6)).or_else(|| owners::present(r.get(7))),
                    email: r.get::<_, Option<String>>(7).unwrap_or_default(),
                    name: r.get::<_, Option<String>>(8).unwrap_or_default(),
                    left_out: if deleted {
                        Some("deleted")
                    } else if role.as_deref() == Some("denied") {
                        Some("banned (role denied)")
                    } else {
                        None
                    },
                }
            });
            (r.get(0), room, person)
        }),
    ))
}
