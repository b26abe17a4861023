//! From recordings to Moodle activities: by `bigbluebuttonbn_recordings.recordingid`, else by
//! the meetingID's seed and activity id; then the facts about each activity the rules need.
//! One query each per batch, whatever the batch holds.

use super::meetingid::MeetingId;
use super::site::{Site, in_list};
use crate::db::sql::Value;
use std::collections::{BTreeSet, HashMap};

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

/// Finds the activity of each key (same order; None = not found). One query: the candidate
/// `bigbluebuttonbn_recordings` rows and activities, compared exactly here (a MariaDB/MySQL
/// `_ci` collation would also match another case or trailing spaces).
pub fn find(site: &mut Site, keys: &[Key]) -> anyhow::Result<Vec<Option<(i64, MatchedBy)>>> {
    let t = site.tables.clone();
    let rids: BTreeSet<&str> = keys.iter().map(|k| k.record_id.as_str()).collect();
    let ids: BTreeSet<i64> = keys
        .iter()
        .filter_map(|k| k.meeting.as_ref().map(|m| m.activity))
        .collect();
    let mut params: Vec<Value> = Vec::new();
    let by_rec = if site.has_recordings {
        params.extend(rids.iter().map(|r| Value::from(*r)));
        format!(
            "SELECT 1 AS kind, rr.recordingid, rr.bigbluebuttonbnid, rr.id
               FROM {rec} rr JOIN {bbb} b2 ON b2.id = rr.bigbluebuttonbnid
              WHERE rr.recordingid IN ({list}) AND rr.imported = 0 AND rr.status IN (2, 3)
             UNION ALL ",
            rec = t.t("bigbluebuttonbn_recordings"),
            bbb = t.t("bigbluebuttonbn"),
            list = in_list(1, rids.len()),
        )
    } else {
        String::new()
    };
    let first = params.len() + 1;
    params.extend(ids.iter().map(|i| Value::from(*i)));
    let sql = format!(
        "{by_rec}SELECT 2 AS kind, s.meetingid, s.id, s.id FROM {bbb} s WHERE s.id IN ({list})",
        bbb = t.t("bigbluebuttonbn"),
        list = in_list(first, ids.len()),
    );
    // recordingid → (activity, row id); activity → its meetingid seed
    let mut recordings: HashMap<String, Vec<(i64, i64)>> = HashMap::new();
    let mut seeds: HashMap<i64, String> = HashMap::new();
    for row in site.query(&sql, &params)? {
        let (kind, text, activity, rid): (i64, String, i64, i64) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        if kind == 1 {
            recordings.entry(text).or_default().push((activity, rid));
        } else {
            seeds.insert(activity, text);
        }
    }
    Ok(keys
        .iter()
        .map(|k| {
            let wanted = k.meeting.as_ref().map(|m| m.activity);
            // The row of the meetingID's own activity first (a restored copy shares the
            // recordingid), then the oldest.
            let by_rec = recordings.get(&k.record_id).and_then(|rows| {
                rows.iter()
                    .min_by_key(|(a, id)| (Some(*a) != wanted, *id))
                    .map(|(a, _)| *a)
            });
            let by_seed = k
                .meeting
                .as_ref()
                .and_then(|m| (seeds.get(&m.activity) == Some(&m.seed)).then_some(m.activity));
            match (by_rec, by_seed) {
                (Some(id), _) => Some((id, MatchedBy::RecordingId)),
                (None, Some(id)) => Some((id, MatchedBy::MeetingId)),
                _ => None,
            }
        })
        .collect())
}

/// Reads the activities with these ids. One query. The owner is the user of the `Add` log
/// (Moodle's `get_instance_ownerid`), looked up by course too so that the log's
/// `(courseid, bigbluebuttonbnid)` index serves it (restore rewrites both columns).
pub fn activities(site: &mut Site, ids: &[i64]) -> anyhow::Result<HashMap<i64, Activity>> {
    let t = site.tables.clone();
    let sql = format!(
        "SELECT a.id, a.course, a.name, a.shortname, a.participants,
                mctx.id, mctx.path, cctx.id, cctx.path, a.owner,
                CASE WHEN EXISTS (
                     SELECT 1 FROM {ue} ue JOIN {enrol} e ON e.id = ue.enrolid
                      WHERE ue.userid = a.owner AND e.courseid = a.course) THEN 1 ELSE 0 END
           FROM (SELECT b.id, b.course, b.name, c.shortname, b.participants,
                        (SELECT MIN(cm.id) FROM {cm} cm
                           JOIN {modules} m ON m.id = cm.module AND m.name = 'bigbluebuttonbn'
                          WHERE cm.instance = b.id AND cm.course = b.course) AS cmid,
                        (SELECT l.userid FROM {logs} l
                          WHERE l.courseid = b.course AND l.bigbluebuttonbnid = b.id
                            AND l.log = 'Add' AND l.userid IS NOT NULL
                          ORDER BY l.id LIMIT 1) AS owner
                   FROM {bbb} b LEFT JOIN {course} c ON c.id = b.course
                  WHERE b.id IN ({list})) a
           LEFT JOIN {ctx} mctx ON mctx.contextlevel = 70 AND mctx.instanceid = a.cmid
           LEFT JOIN {ctx} cctx ON cctx.contextlevel = 50 AND cctx.instanceid = a.course",
        ue = t.t("user_enrolments"),
        enrol = t.t("enrol"),
        bbb = t.t("bigbluebuttonbn"),
        course = t.t("course"),
        cm = t.t("course_modules"),
        modules = t.t("modules"),
        ctx = t.t("context"),
        logs = t.t("bigbluebuttonbn_logs"),
        list = in_list(1, ids.len()),
    );
    let params: Vec<Value> = ids.iter().map(|i| Value::from(*i)).collect();
    let rows = site.query(&sql, &params)?;
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
