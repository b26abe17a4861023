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
struct Fault<K> {
    kind: K,
    matching: Option<String>,
    left: Option<u64>,
}

/// Faults given on the command line, consumed as requests match them. `K` is what a fault
/// does: [`Kind`] for API answers, the file server's own kinds for published files.
#[derive(Debug)]
pub struct Faults<K = Kind>(Mutex<Vec<Fault<K>>>);

/// The parts of one `KIND[:ARG][@MATCH][*COUNT]` spec (API and file faults alike).
struct Spec<'a> {
    name: &'a str,
    arg: &'a str,
    matching: Option<String>,
    left: Option<u64>,
}

impl<'a> Spec<'a> {
    /// Splits a spec into its parts.
    fn parse(s: &'a str) -> anyhow::Result<Spec<'a>> {
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

impl<K: Clone> Faults<K> {
    /// Parses `KIND[:ARG][@MATCH][*COUNT]` specs; `kind(name, arg)` says what each does.
    pub fn parse_with(
        specs: &[String],
        kind: impl Fn(&str, &str) -> anyhow::Result<K>,
    ) -> anyhow::Result<Faults<K>> {
        let mut v = Vec::new();
        for s in specs {
            let spec = Spec::parse(s)?;
            v.push(Fault {
                kind: kind(spec.name, spec.arg)?,
                matching: spec.matching,
                left: spec.left,
            });
        }
        Ok(Faults(Mutex::new(v)))
    }

    /// The faults that apply to a request whose path (and query) is `path` (each consumed
    /// once when counted).
    pub fn take(&self, path: &str) -> Vec<K> {
        let mut all = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = Vec::new();
        for f in all.iter_mut() {
            if f.matching.as_deref().is_some_and(|m| !path.contains(m)) {
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

impl Faults {
    /// Parses the API faults: `status:CODE`, `delay:MS`, `html`, `truncate`.
    pub fn parse(specs: &[String]) -> anyhow::Result<Faults> {
        Faults::parse_with(specs, |name, arg| {
            Ok(match name {
                "status" => Kind::Status(arg.parse()?),
                "delay" => Kind::Delay(arg.parse()?),
                "html" => Kind::Html,
                "truncate" => Kind::Truncate,
                _ => anyhow::bail!("unknown fault {name:?}"),
            })
        })
    }
}
