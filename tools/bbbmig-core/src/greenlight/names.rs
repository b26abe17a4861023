//! Greenlight keeps one display name; Pod wants a first and a last name. The split is
//! lossless: whitespace runs become one space, no other character is touched.

/// Splits a display name into (first name, last name).
///
/// Leading words in capitals (at least two letters, an upper-case one, no lower-case one)
/// followed by more words are the last name, the rest the first name ("DUPONT Jean" →
/// Jean / DUPONT, as LDAP `displayName` often reads); otherwise the first word is the first
/// name and the rest the last name ("Jean-Pierre de La Fontaine" → Jean-Pierre /
/// de La Fontaine); a single word is the last name. `first + " " + last` (or, in the capitals
/// case, `last + " " + first`) gives back the name with its whitespace runs collapsed.
pub fn split(name: &str) -> (String, String) {
    let words: Vec<&str> = name.split_whitespace().collect();
    match words.len() {
        0 => (String::new(), String::new()),
        1 => (String::new(), words[0].to_string()),
        n => {
            let caps = words.iter().take_while(|w| in_capitals(w)).count();
            if caps > 0 && caps < n {
                (words[caps..].join(" "), words[..caps].join(" "))
            } else {
                (words[0].to_string(), words[1..].join(" "))
            }
        }
    }
}

/// A word written in capitals: two letters or more, some upper case, no lower case.
fn in_capitals(word: &str) -> bool {
    word.chars().filter(|c| c.is_alphabetic()).count() >= 2
        && word.chars().any(char::is_uppercase)
        && !word.chars().any(char::is_lowercase)
}

#[cfg(test)]
mod tests {
    use super::split;

    fn s(n: &str) -> (String, String) {
        split(n)
    }

    #[test]
    fn usual_names() {
        assert_eq!(s("Jean Dupont"), ("Jean".into(), "Dupont".into()));
        assert_eq!(
            s("Jean-Pierre de La Fontaine"),
            ("Jean-Pierre".into(), "de La Fontaine".into())
        );
        assert_eq!(
            s("Marie Anne Dupont"),
            ("Marie".into(), "Anne Dupont".into())
        );
        assert_eq!(s("Madonna"), (String::new(), "Madonna".into()));
        assert_eq!(s("  "), (String::new(), String::new()));
    }

    #[test]
    fn leading_capitals_are_the_last_name() {
        assert_eq!(s("DUPONT Jean"), ("Jean".into(), "DUPONT".into()));
        assert_eq!(
            s("DE LA FONTAINE Jean-Pierre"),
            ("Jean-Pierre".into(), "DE LA FONTAINE".into())
        );
        assert_eq!(s("O'BRIEN Seán"), ("Seán".into(), "O'BRIEN".into()));
        // all capitals: no first name follows, the usual rule
        assert_eq!(s("JEAN DUPONT"), ("JEAN".into(), "DUPONT".into()));
        // one capital letter is an initial, not a name in capitals
        assert_eq!(s("J Dupont"), ("J".into(), "Dupont".into()));
        // scripts without case are never "in capitals"
        assert_eq!(s("毛泽东 主席"), ("毛泽东".into(), "主席".into()));
    }

    #[test]
    fn nothing_is_lost_but_whitespace_runs() {
        let nfd = "Ame\u{301}lie\u{a0}\u{a0}Poulain  \u{1f3ac} ";
        let (f, l) = s(nfd);
        assert_eq!(f, "Ame\u{301}lie");
        assert_eq!(l, "Poulain \u{1f3ac}");
        for n in [
            "Jean Dupont",
            "DUPONT Jean",
            "ÉLODIE d'Arc",
            "زينب علي",
            "Zoë  Ångström",
        ] {
            let (f, l) = s(n);
            let collapsed = n.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(
                format!("{f} {l}") == collapsed || format!("{l} {f}") == collapsed,
                "{n}: {f} / {l}"
            );
        }
    }
}
