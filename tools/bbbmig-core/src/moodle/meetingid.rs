//! Parsing a Moodle BBB meetingID `<seed>-<course>-<id>[<group>]` (the group part is optional).

/// The parts of a meetingID made by mod_bigbluebuttonbn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingId {
    /// `mdl_bigbluebuttonbn.meetingid` (a sha1 hex seed, copied by backup/restore).
    pub seed: String,
    /// `mdl_course.id`.
    pub course: i64,
    /// `mdl_bigbluebuttonbn.id`.
    pub activity: i64,
    /// The group, when the meetingID has a `[g]` suffix.
    pub group: Option<i64>,
}

/// Parses `^([^-\[\]]+)-(\d+)-(\d+)(\[(\d*)\])?$`; anything else did not come from Moodle.
pub fn parse(s: &str) -> Option<MeetingId> {
    let (body, group) = match s.strip_suffix(']') {
        Some(rest) => {
            let open = rest.rfind('[')?;
            let g = &rest[open + 1..];
            if !g.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            (
                &rest[..open],
                if g.is_empty() { None } else { g.parse().ok() },
            )
        }
        None => (s, None),
    };
    let mut parts = body.rsplitn(3, '-');
    let activity = digits(parts.next()?)?;
    let course = digits(parts.next()?)?;
    let seed = parts.next()?;
    if seed.is_empty() || seed.contains(['-', '[', ']']) {
        return None;
    }
    Some(MeetingId {
        seed: seed.to_string(),
        course,
        activity,
        group,
    })
}

fn digits(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moodle4_with_group_suffix() {
        let m = parse("a94a8fe5ccb19ba61c4c0873d391e987982fbbd3-2-10[0]").unwrap();
        assert_eq!(m.seed, "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3");
        assert_eq!((m.course, m.activity, m.group), (2, 10, Some(0)));
    }

    #[test]
    fn moodle2x_without_suffix_and_with_group() {
        let m = parse("abc-3-14").unwrap();
        assert_eq!((m.course, m.activity, m.group), (3, 14, None));
        assert_eq!(parse("abc-3-14[7]").unwrap().group, Some(7));
        assert_eq!(parse("abc-3-14[]").unwrap().group, None);
    }

    #[test]
    fn foreign_ids_do_not_parse() {
        for s in [
            "",
            "random-room",
            "a-b-c",
            "x-y-2-10",
            "-2-10",
            "abc-2-10[x]",
            "abc-2-",
            "abc-2-10]",
            "4f6d5e2c9a8b7c1d2e3f4a5b6c7d8e9f0a1b2c3d-1530718721124",
            "x'; DROP TABLE mdl_user; --2-10",
        ] {
            assert!(parse(s).is_none(), "{s}");
        }
    }
}
