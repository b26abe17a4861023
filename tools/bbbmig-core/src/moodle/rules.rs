//! The participant rules of an activity (`mdl_bigbluebuttonbn.participants` JSON) turned into
//! the grants that make someone a moderator, as Moodle's `roles::get_participant_list` does.

use super::site::{Role, Settings};
use serde_json::Value;

/// One way to be a moderator of an activity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    /// A `user` rule: this user id.
    User(i64),
    /// The owner fallback (default setting `0`): the user of the activity's `Add` log.
    Owner(i64),
    /// A `role` rule, resolved to a role id and its shortname.
    Role(i64, String),
    /// An `all` rule with the moderator role: everyone who takes part.
    All,
}

/// What was found in the participants column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// A list with at least one rule (viewer rules included).
    Rules(Vec<(String, String)>),
    /// NULL, empty, `[]` or not a list: Moodle falls back to the site default.
    Empty,
    /// Not JSON: Moodle's `json_decode` gives null and it falls back to the default too.
    Invalid(String),
}

/// Parses the participants column. Only moderator rules are kept, as
/// `(selectiontype, selectionid)`; `selectionid` may be a JSON string or number. Text that
/// an old form saved HTML-escaped (`[{&quot;…`) is unescaped first.
pub fn parse(text: Option<&str>) -> Parsed {
    let Some(raw) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Parsed::Empty;
    };
    let unescaped;
    let raw = if raw.starts_with("[{&quot;") {
        unescaped = raw
            .replace("&quot;", "\"")
            .replace("&#039;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&");
        unescaped.as_str()
    } else {
        raw
    };
    let v: Value = match serde_json::from_str(raw) {
        Ok(v) => v,
        Err(e) => return Parsed::Invalid(e.to_string()),
    };
    let items = match v {
        Value::Array(a) if !a.is_empty() => a,
        Value::Object(o) if !o.is_empty() => o.into_iter().map(|(_, v)| v).collect(),
        _ => return Parsed::Empty,
    };
    let text_of = |v: Option<&Value>| match v {
        Some(Value::String(s)) => Some(s.trim().to_string()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let rules = items
        .iter()
        .filter(|r| text_of(r.get("role")).as_deref() == Some("moderator"))
        .filter_map(|r| {
            Some((
                text_of(r.get("selectiontype"))?,
                text_of(r.get("selectionid"))?,
            ))
        })
        .collect();
    Parsed::Rules(rules)
}

/// Moodle's `roles::get_role`: a numeric id of an existing role, else a shortname.
pub fn role<'a>(settings: &'a Settings, sel: &str) -> Option<&'a Role> {
    if let Ok(id) = sel.parse::<i64>()
        && let Some(r) = settings.roles.iter().find(|r| r.id == id)
    {
        return Some(r);
    }
    settings.roles.iter().find(|r| r.shortname == sel)
}

/// The grants of one activity: its rules, or for empty rules the site default (`0` = the
/// owner when enrolled in the course, other values = role ids).
pub fn grants(
    parsed: &Parsed,
    settings: &Settings,
    owner: Option<i64>,
    owner_enrolled: bool,
) -> Vec<Grant> {
    let mut out = Vec::new();
    match parsed {
        Parsed::Rules(rules) => {
            for (stype, sel) in rules {
                match stype.as_str() {
                    "all" => out.push(Grant::All),
                    "user" => {
                        if let Ok(id) = sel.parse::<i64>() {
                            out.push(Grant::User(id));
                        }
                    }
                    "role" => {
                        if let Some(r) = role(settings, sel) {
                            out.push(Grant::Role(r.id, r.shortname.clone()));
                        }
                    }
                    _ => {}
                }
            }
        }
        Parsed::Empty | Parsed::Invalid(_) => {
            for sel in &settings.moderator_default {
                if sel == "0" {
                    if let (Some(o), true) = (owner, owner_enrolled) {
                        out.push(Grant::Owner(o));
                    }
                } else if let Some(r) = role(settings, sel) {
                    out.push(Grant::Role(r.id, r.shortname.clone()));
                }
            }
        }
    }
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings {
            roles: [(3, "editingteacher"), (4, "teacher"), (5, "student")]
                .into_iter()
                .map(|(id, s)| Role {
                    id,
                    shortname: s.into(),
                })
                .collect(),
            moderator_default: vec!["0".into()],
            ..Default::default()
        }
    }

    #[test]
    fn rules_of_every_shape() {
        let p = parse(Some(
            r#"[{"selectiontype":"all","selectionid":"all","role":"viewer"},
                {"selectiontype":"role","selectionid":"3","role":"moderator"},
                {"selectiontype":"role","selectionid":"teacher","role":"moderator"},
                {"selectiontype":"role","selectionid":4,"role":"moderator"},
                {"selectiontype":"role","selectionid":"nosuchrole","role":"moderator"},
                {"selectiontype":"user","selectionid":7,"role":"moderator"},
                {"selectiontype":"user","selectionid":"x","role":"moderator"},
                {"selectiontype":"all","selectionid":"all","role":"moderator"}]"#,
        ));
        let g = grants(&p, &settings(), Some(9), true);
        assert_eq!(
            g,
            vec![
                Grant::Role(3, "editingteacher".into()),
                Grant::Role(4, "teacher".into()),
                Grant::User(7),
                Grant::All
            ]
        );
    }

    #[test]
    fn empty_null_and_invalid_fall_back_to_the_owner() {
        for t in [
            None,
            Some(""),
            Some("  "),
            Some("[]"),
            Some("{}"),
            Some("[{bad json"),
        ] {
            let g = grants(&parse(t), &settings(), Some(7), true);
            assert_eq!(g, vec![Grant::Owner(7)], "{t:?}");
            assert!(grants(&parse(t), &settings(), Some(7), false).is_empty());
            assert!(grants(&parse(t), &settings(), None, true).is_empty());
        }
        assert!(matches!(parse(Some("[{bad")), Parsed::Invalid(_)));
    }

    #[test]
    fn viewer_only_rules_are_not_empty() {
        let p = parse(Some(
            r#"[{"selectiontype":"all","selectionid":"all","role":"viewer"}]"#,
        ));
        assert!(grants(&p, &settings(), Some(7), true).is_empty());
    }

    #[test]
    fn default_with_roles_and_escaped_json() {
        let mut s = settings();
        s.moderator_default = vec!["0".into(), "3".into()];
        assert_eq!(
            grants(&Parsed::Empty, &s, Some(7), true),
            vec![Grant::Owner(7), Grant::Role(3, "editingteacher".into())]
        );
        let p = parse(Some(
            "[{&quot;selectiontype&quot;:&quot;user&quot;,&quot;selectionid&quot;:&quot;5&quot;,&quot;role&quot;:&quot;moderator&quot;}]",
        ));
        assert_eq!(grants(&p, &s, None, false), vec![Grant::User(5)]);
    }
}
