//! From recordings to Moodle activities: by `bigbluebuttonbn_recordings.recordingid`, else by
//! the meetingID's seed and activity id; then the facts about each activity the rules need.
//! One query each per batch, whatever the batch holds.

use super::config::Tables;
use super::meetingid::MeetingId;
use super::site::{Meter, run};
use postgres::GenericClient;
use std::collections::HashMap;

/// What identifies one recording for the lookup.
#[derive(Debug, Clone)]
pub struct Key {
    /// The BBB recordID (= Moodle's `recordingid`).
    pub record_id: String,
    /// The parsed meetingID, when it has Moodle's shape.
    pub meeting: Option<MeetingId>,
}

/// How a recording was tied to its activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchedBy {
    /// A `bigbluebuttonbn_recordings` row (status 2 or 3, not an imported copy).
    RecordingId,
    /// The meetingID's seed and activity id.
    MeetingId,
}

impl MatchedBy {
    /// The value of `moodle.matched_by`.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchedBy::RecordingId => "recordingid",
            MatchedBy::MeetingId => "meetingid",
        }
    }
}

/// One activity and what its moderators depend on.
#[derive(Debug, Clone)]
pub struct Activity {
    /// `mdl_bigbluebuttonbn.id`.
    pub id: i64,
    /// `mdl_course.id`.
    pub course: i64,
    /// Activity name.
    pub name: String,
    /// Course shortname (None when the course row is gone).
    pub course_shortname: Option<String>,
    /// The raw participants column.
    pub participants: Option<String>,
    /// Context ids where role assignments count: the module context and its parents.
    pub ctx_path: Vec<i64>,
    /// Contexts whose members an `all` rule makes moderators: module and course.
    pub member_ctxs: Vec<i64>,
    /// The user of the `Add` log.
    pub owner: Option<i64>,
    /// Whether the owner is enrolled in the course (the default rule requires it).
    pub owner_enrolled: bool,
}

/// Finds the activity of each key (same order; None = not found). One query.
pub fn find(
    c: &mut impl GenericClient,
    queries: &mut Meter,
    site: &str,
    t: &Tables,
    has_recordings: bool,
    keys: &[Key],
) -> anyhow::Result<Vec<Option<(i64, MatchedBy)>>> {
    let rids: Vec<&str> = keys.iter().map(|k| k.record_id.as_str()).collect();
    let seeds: Vec<Option<&str>> = keys
        .iter()
        .map(|k| k.meeting.as_ref().map(|m| m.seed.as_str()))
        .collect();
    let ids: Vec<Option<i64>> = keys
        .iter()
        .map(|k| k.meeting.as_ref().map(|m| m.activity))
        .collect();
    let (by_rec_join, by_rec_col) = if has_recordings {
        (
            format!(
                "LEFT JOIN LATERAL (
                   SELECT rr.bigbluebuttonbnid AS bbbid
                     FROM {rec} rr JOIN {bbb} b2 ON b2.id = rr.bigbluebuttonbnid
                    WHERE rr.recordingid = k.recordid AND rr.imported = 0 AND rr.status IN (2, 3)
                    ORDER BY (rr.bigbluebuttonbnid = k.instanceid) IS TRUE DESC, rr.id
                    LIMIT 1) r ON true",
                rec = t.t("bigbluebuttonbn_recordings"),
                bbb = t.t("bigbluebuttonbn")
            ),
            "r.bbbid",
        )
    } else {
        (String::new(), "NULL::bigint")
    };
    let sql = format!(
        "SELECT k.ord::bigint, {by_rec_col}::bigint, s.id::bigint
           FROM unnest($1::text[], $2::text[], $3::bigint[])
                WITH ORDINALITY AS k(recordid, seed, instanceid, ord)
           {by_rec_join}
           LEFT JOIN {bbb} s ON s.id = k.instanceid AND s.meetingid = k.seed
          WHERE {by_rec_col} IS NOT NULL OR s.id IS NOT NULL",
        bbb = t.t("bigbluebuttonbn")
    );
    let rows = run(c, queries, site, &sql, &[&rids, &seeds, &ids])?;
    let mut out = vec![None; keys.len()];
    for row in rows {
        let ord: i64 = row.get(0);
        let by_rec: Option<i64> = row.get(1);
        let by_seed: Option<i64> = row.get(2);
        let hit = match (by_rec, by_seed) {
            (Some(id), _) => Some((id, MatchedBy::RecordingId)),
            (None, Some(id)) => Some((id, MatchedBy::MeetingId)),
            _ => None,
        };
        if let Some(slot) = usize::try_from(ord - 1).ok().and_then(|i| out.get_mut(i)) {
            *slot = hit;
        }
    }
    Ok(out)
}

/// Reads the activities with these ids. One query. The owner is the user of the `Add` log
/// (Moodle's `get_instance_ownerid`), looked up by course too so that the log's
/// `(courseid, bigbluebuttonbnid)` index serves it (restore rewrites both columns).
pub fn activities(
    c: &mut impl GenericClient,
    queries: &mut Meter,
    site: &str,
    t: &Tables,
    ids: &[i64],
) -> anyhow::Result<HashMap<i64, Activity>> {
    let sql = format!(
        "SELECT b.id::bigint, b.course::bigint, b.name::text, c.shortname::text, b.participants::text,
                mctx.id::bigint, mctx.path::text, cctx.id::bigint, cctx.path::text, o.userid::bigint,
                en.enrolled IS NOT NULL
           FROM {bbb} b
           LEFT JOIN {course} c ON c.id = b.course
           LEFT JOIN LATERAL (
                SELECT cm.id FROM {cm} cm JOIN {modules} m ON m.id = cm.module AND m.name = 'bigbluebuttonbn'
                 WHERE cm.instance = b.id AND cm.course = b.course ORDER BY cm.id LIMIT 1) cm ON true
           LEFT JOIN {ctx} mctx ON mctx.contextlevel = 70 AND mctx.instanceid = cm.id
           LEFT JOIN {ctx} cctx ON cctx.contextlevel = 50 AND cctx.instanceid = b.course
           LEFT JOIN LATERAL (
                SELECT l.userid FROM {logs} l
                 WHERE l.courseid = b.course AND l.bigbluebuttonbnid = b.id
                   AND l.log = 'Add' AND l.userid IS NOT NULL
                 ORDER BY l.id LIMIT 1) o ON true
           LEFT JOIN LATERAL (
                SELECT true AS enrolled FROM {ue} ue JOIN {enrol} e ON e.id = ue.enrolid
                 WHERE ue.userid = o.userid AND e.courseid = b.course LIMIT 1) en ON true
          WHERE b.id = ANY($1)",
        ue = t.t("user_enrolments"),
        enrol = t.t("enrol"),
        bbb = t.t("bigbluebuttonbn"),
        course = t.t("course"),
        cm = t.t("course_modules"),
        modules = t.t("modules"),
        ctx = t.t("context"),
        logs = t.t("bigbluebuttonbn_logs"),
    );
    let ids: Vec<i64> = ids.to_vec();
    let rows = run(c, queries, site, &sql, &[&ids])?;
    let mut out = HashMap::new();
    for r in rows {
        let module_ctx: Option<i64> = r.get(5);
        let module_path: Option<String> = r.get(6);
        let course_ctx: Option<i64> = r.get(7);
        let course_path: Option<String> = r.get(8);
        let path = module_path.or(course_path).unwrap_or_default();
        let a = Activity {
            id: r.get(0),
            course: r.get(1),
            name: r.get(2),
            course_shortname: r.get(3),
            participants: r.get(4),
            ctx_path: path.split('/').filter_map(|p| p.parse().ok()).collect(),
            member_ctxs: module_ctx.into_iter().chain(course_ctx).collect(),
            owner: r.get(9),
            owner_enrolled: r.get(10),
        };
        out.insert(a.id, a);
    }
    Ok(out)
}
