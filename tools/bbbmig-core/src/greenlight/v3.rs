//! Greenlight v3: the room whose `meeting_id` is the meetingID, else (Greenlight's own copy
//! of the recordings) the room of the `recordings` row of the recordID; its owner and the
//! users it is shared with. One query per batch.

use super::db::GlDb;
use super::owners::{self, Key, Person, Room};
use serde_json::json;

/// `users.status` of a banned user (`enum :status, { active: 0, pending: 1, banned: 2 }`).
pub const BANNED: i32 = 2;

/// The rooms of each key, and per key the room the `recordings` table names instead.
pub type Found = (Vec<Vec<Room>>, Vec<Option<String>>);

/// The room of each key (same order; at most one), people included, banned users marked
/// as left out. Also, per key, the friendly id of another room the `recordings` table names
/// when it disagrees with the meetingID (the meetingID wins).
pub fn find(db: &mut GlDb, recordings: bool, keys: &[Key]) -> anyhow::Result<Found> {
    let by_recording = if recordings {
        "UNION
           SELECT k.ord, rc.room_id, 2 FROM k JOIN recordings rc ON rc.record_id = k.rid
            WHERE rc.room_id IS NOT NULL"
    } else {
        ""
    };
    let sql = format!(
        "WITH k AS (SELECT * FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS k(mid, rid, ord)),
         hits AS (SELECT k.ord, r.id AS room, 1 AS pref FROM k JOIN rooms r ON r.meeting_id = k.mid
                  {by_recording}),
         chosen AS (SELECT DISTINCT ON (ord) ord, room, pref FROM hits ORDER BY ord, pref, room),
         other AS (SELECT h.ord, min(r2.friendly_id::text) AS friendly_id
                     FROM hits h JOIN chosen c ON c.ord = h.ord AND c.room <> h.room
                     JOIN rooms r2 ON r2.id = h.room GROUP BY h.ord)
         SELECT c.ord::bigint, c.pref::int4, r.id::text, r.friendly_id::text, r.name::text,
                o.friendly_id, m.shared, u.id::text, u.email::text, u.name::text, u.status::int4
           FROM chosen c JOIN rooms r ON r.id = c.room
           LEFT JOIN other o ON o.ord = c.ord
           CROSS JOIN LATERAL (
                SELECT false AS shared, NULL::timestamp AS at, r.user_id AS uid
                UNION ALL
                SELECT true, sa.created_at, sa.user_id FROM shared_accesses sa WHERE sa.room_id = r.id) m
           LEFT JOIN users u ON u.id = m.uid
          ORDER BY c.ord, m.shared, m.at, u.id"
    );
    let mids: Vec<&str> = keys.iter().map(|k| k.meeting_id.as_str()).collect();
    let rids: Vec<Option<&str>> = keys.iter().map(|k| k.record_id.as_deref()).collect();
    let rows = db.query(&sql, &[&mids, &rids])?;
    let mut other = vec![None; keys.len()];
    for r in &rows {
        let ord: i64 = r.get(0);
        if let Some(slot) = usize::try_from(ord - 1).ok().and_then(|i| other.get_mut(i)) {
            *slot = r.get(5);
        }
    }
    let rooms = owners::group(
        keys.len(),
        rows.iter().map(|r| {
            let room = Room {
                id: json!(r.get::<_, String>(2)),
                friendly_id: r.get::<_, Option<String>>(3).unwrap_or_default(),
                name: r.get::<_, Option<String>>(4).unwrap_or_default(),
                matched_by: if r.get::<_, i32>(1) == 1 {
                    "meetingid"
                } else {
                    "recordingid"
                },
                people: Vec::new(),
            };
            let person = r.get::<_, Option<String>>(7).map(|id| {
                let email: String = r.get::<_, Option<String>>(8).unwrap_or_default();
                Person {
                    user_id: id,
                    shared: r.get(6),
                    username: owners::present(Some(email.clone())),
                    email,
                    name: r.get::<_, Option<String>>(9).unwrap_or_default(),
                    left_out: (r.get::<_, Option<i32>>(10) == Some(BANNED))
                        .then_some("banned (status 2)"),
                }
            });
            (r.get(0), room, person)
        }),
    );
    Ok((rooms, other))
}
