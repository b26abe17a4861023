//! Injected faults of the stand-in: delays, HTTP errors, HTML pages, truncated bodies.

use std::sync::Mutex;

/// What a fault does to the answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// Answer with this HTTP status and an nginx-like HTML page.
    Status(u16),
    /// Wait this many milliseconds, then answer normally.
    Delay(u64),
    /// Answer 200 with an HTML page instead of XML.
    Html,
    /// Send half of the body, then break the connection.
    Truncate,
}

#[derive(Debug)]
struct Fault {
    kind: Kind,
    matching: Option<String>,
    left: Option<u64>,
}

/// The faults given on the command line, consumed as requests match them.
#[derive(Debug, Default)]
pub struct Faults(Mutex<Vec<Fault>>);

/// The parts of one `KIND[:ARG][@MATCH][*COUNT]` spec (API and file faults alike).
pub struct Spec<'a> {
    pub name: &'a str,
    pub arg: &'a str,
    pub matching: Option<String>,
    pub left: Option<u64>,
}

impl<'a> Spec<'a> {
    /// Splits a spec into its parts.
    pub fn parse(s: &'a str) -> anyhow::Result<Spec<'a>> {
        let (rest, left) = match s.rsplit_once('*') {
            Some((r, n)) => (r, Some(n.parse()?)),
            None => (s, None),
        };
        let (head, matching) = match rest.split_once('@') {
            Some((h, m)) => (h, Some(m.to_string())),
            None => (rest, None),
        };
        let (name, arg) = head.split_once(':').unwrap_or((head, ""));
        Ok(Spec {
            name,
            arg,
            matching,
            left,
        })
    }
}

impl Faults {
    /// Parses `KIND[:ARG][@MATCH][*COUNT]` specs.
    pub fn parse(specs: &[String]) -> anyhow::Result<Faults> {
        let mut v = Vec::new();
        for s in specs {
            let Spec {
                name,
                arg,
                matching,
                left,
            } = Spec::parse(s)?;
            let kind = match name {
                "status" => Kind::Status(arg.parse()?),
                "delay" => Kind::Delay(arg.parse()?),
                "html" => Kind::Html,
                "truncate" => Kind::Truncate,
                _ => anyhow::bail!("unknown fault {name:?}"),
            };
            v.push(Fault {
                kind,
                matching,
                left,
            });
        }
        Ok(Faults(Mutex::new(v)))
    }

    /// The faults that apply to this request (each consumed once when counted).
    pub fn take(&self, path_and_query: &str) -> Vec<Kind> {
        let mut all = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = Vec::new();
        for f in all.iter_mut() {
            if f.matching
                .as_deref()
                .is_some_and(|m| !path_and_query.contains(m))
            {
                continue;
            }
            match &mut f.left {
                Some(0) => continue,
                Some(n) => *n -= 1,
                None => {}
            }
            out.push(f.kind.clone());
        }
        out
    }
}
