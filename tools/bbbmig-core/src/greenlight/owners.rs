//! The people of a Greenlight room as `moderators` entries, and how they join the entries a
//! record already has (kept first and unchanged; no username twice; owner before shared).

use super::names;
use serde_json::{Map, Value, json};
use std::collections::HashSet;

/// A room a recording belongs to, with its owner and the users it is shared with.
#[derive(Debug, Clone)]
pub struct Room {
    /// `rooms.id` (a number in v2, a uuid string in v3).
    pub id: Value,
    /// v2 `rooms.uid` / v3 `rooms.friendly_id`: the room's URL slug.
    pub friendly_id: String,
    /// Room name.
    pub name: String,
    /// `meetingid` (rooms' meeting ID) or `recordingid` (v3 `recordings` table).
    pub matched_by: &'static str,
    /// Owner first, then shared users in the order they were shared; duplicates possible.
    pub people: Vec<Person>,
}

/// A user of a room.
#[derive(Debug, Clone)]
pub struct Person {
    /// `users.id` as text (for de-duplication and messages).
    pub user_id: String,
    /// False for the owner, true for a shared user.
    pub shared: bool,
    /// Pod username: v2 `users.username`, else the e-mail; v3 the e-mail. None: no identity.
    pub username: Option<String>,
    /// E-mail as stored ("" when NULL).
    pub email: String,
    /// Display name as stored.
    pub name: String,
    /// Why the user is left out (deleted, banned), None when in.
    pub left_out: Option<&'static str>,
}

impl Person {
    /// The `moderators` entry.
    pub fn entry(&self) -> Option<Value> {
        let username = self.username.as_ref()?;
        let (firstname, lastname) = names::split(&self.name);
        let source = if self.shared {
            "greenlight:shared"
        } else {
            "greenlight:owner"
        };
        Some(json!({
            "username": username,
            "email": self.email,
            "firstname": firstname,
            "lastname": lastname,
            "source": source,
        }))
    }
}

/// What one record is looked up by.
#[derive(Debug, Clone)]
pub struct Key {
    /// The BBB meetingID (v2 `rooms.bbb_id`, v3 `rooms.meeting_id`).
    pub meeting_id: String,
    /// The BBB recordID (v3 `recordings.record_id`).
    pub record_id: Option<String>,
}

/// Groups query rows `(1-based key number, room, person of that room)`, sorted by key and
/// room, into the rooms of each of `n` keys.
pub fn group(
    n: usize,
    rows: impl IntoIterator<Item = (i64, Room, Option<Person>)>,
) -> Vec<Vec<Room>> {
    let mut out: Vec<Vec<Room>> = vec![Vec::new(); n];
    for (ord, room, person) in rows {
        let Some(rooms) = usize::try_from(ord - 1).ok().and_then(|i| out.get_mut(i)) else {
            continue;
        };
        if rooms.last().is_none_or(|r| r.id != room.id) {
            rooms.push(room);
        }
        if let (Some(r), Some(p)) = (rooms.last_mut(), person) {
            r.people.push(p);
        }
    }
    out
}

/// A non-blank text, as stored.
pub fn present(s: Option<String>) -> Option<String> {
    s.filter(|v| !v.trim().is_empty())
}

/// The entries of these rooms' people in order: owners of every room, then shared users;
/// each user once (owner wins); shared users left out with `owner_only`; users left out or
/// without identity skipped.
pub fn entries(rooms: &[Room], owner_only: bool) -> Vec<Value> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for shared in [false, true] {
        if shared && owner_only {
            break;
        }
        for p in rooms.iter().flat_map(|r| &r.people) {
            if p.shared != shared || p.left_out.is_some() || !seen.insert(p.user_id.clone()) {
                continue;
            }
            out.extend(p.entry());
        }
    }
    out
}

/// Appends `add` to the record's `moderators` (absent or null: a new list). Entries already
/// there stay first and unchanged; an entry whose username (ignoring case) is there already
/// is not added. Fails when `moderators` is not a list.
pub fn append(existing: Option<&Value>, add: Vec<Value>) -> anyhow::Result<Value> {
    let mut list = match existing {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(other) => anyhow::bail!(
            "field moderators must be an array, not {}",
            crate::record::kind(other)
        ),
    };
    let key = |e: &Value| {
        e.as_object()
            .and_then(|o: &Map<String, Value>| o.get("username"))
            .and_then(Value::as_str)
            .map(str::to_lowercase)
    };
    let mut names: HashSet<String> = list.iter().filter_map(key).collect();
    for e in add {
        if let Some(k) = key(&e)
            && names.insert(k)
        {
            list.push(e);
        }
    }
    Ok(Value::Array(list))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(id: &str, shared: bool, user: Option<&str>, out: Option<&'static str>) -> Person {
        Person {
            user_id: id.into(),
            shared,
            username: user.map(String::from),
            email: String::new(),
            name: "Jean Dupont".into(),
            left_out: out,
        }
    }

    #[test]
    fn owner_wins_and_nobody_twice() {
        let rooms = [Room {
            id: json!(1),
            friendly_id: "f".into(),
            name: "n".into(),
            matched_by: "meetingid",
            people: vec![
                p("2", true, Some("b"), None),
                p("1", false, Some("a"), None),
                p("2", true, Some("b"), None),
                p("1", true, Some("a"), None),
                p("3", true, Some("c"), Some("deleted")),
                p("4", true, None, None),
            ],
        }];
        let e = entries(&rooms, false);
        let got: Vec<_> = e.iter().map(|v| v["source"].as_str().unwrap()).collect();
        assert_eq!(got, ["greenlight:owner", "greenlight:shared"]);
        assert_eq!(entries(&rooms, true).len(), 1);
        let merged = append(Some(&json!([{"username": "B", "source": "user"}])), e).unwrap();
        assert_eq!(merged.as_array().unwrap().len(), 2);
        assert_eq!(merged[0], json!({"username": "B", "source": "user"}));
        assert!(append(Some(&json!("x")), vec![]).is_err());
    }
}
