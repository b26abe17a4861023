//! The stand-in's recordings: loaded from real answers or generated, filtered and rendered
//! as BBB 2.2, BBB 2.6 or Scalelite would.

use crate::Opts;
use anyhow::Context;
use sha1::{Digest, Sha1};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

/// Which server the stand-in imitates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// BBB 2.6+: offset/limit pagination with totalElements.
    Bbb26,
    /// BBB 2.0-2.5: no pagination; big listings time out.
    Bbb22,
    /// Scalelite: no pagination, its own XML shape, host rewrite.
    Scalelite,
}

/// One recording.
#[derive(Debug, Clone)]
pub struct Rec {
    pub record_id: String,
    pub meeting_id: String,
    pub name: String,
    pub state: String,
    pub start_ms: i64,
    pub end_ms: i64,
    pub participants: u32,
    pub metadata: Vec<(String, String)>,
    pub breakout_parent: Option<String>,
    /// (type, path on this server, length in minutes).
    pub formats: Vec<(String, String, u32)>,
    /// For recordings loaded from a real answer: the element as the server sent it, and
    /// the hosts its URLs point at (rewritten in Scalelite mode).
    pub raw: Option<(String, Vec<String>)>,
}

/// Every recording of the stand-in, in "directory" order.
pub struct Store {
    pub recs: Vec<Rec>,
    pub mode: Mode,
}

impl Store {
    /// Loads the answers and generates recordings as the options say.
    pub fn load(opts: &Opts) -> anyhow::Result<Store> {
        let mut recs = Vec::new();
        for path in &opts.xml {
            load_xml(path, &mut recs).with_context(|| format!("cannot load {}", path.display()))?;
        }
        if let Some(dir) = &opts.published {
            load_published(dir, &mut recs)?;
        }
        generate(opts.generate, opts.seed, &mut recs);
        Ok(Store {
            recs,
            mode: opts.mode,
        })
    }

    /// Writes every recording as one getRecordings answer.
    pub fn dump(&self, path: &Path, base: &str) -> anyhow::Result<()> {
        let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
        f.write_all(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<response><returncode>SUCCESS</returncode><recordings>\n")?;
        let mut s = String::new();
        for r in &self.recs {
            s.clear();
            self.render(r, base, false, &mut s);
            f.write_all(s.as_bytes())?;
        }
        f.write_all(b"</recordings></response>\n")?;
        Ok(())
    }

    /// Writes one `<recording>` element as this server would.
    pub fn render(&self, r: &Rec, base: &str, protected: bool, out: &mut String) {
        if let Some((raw, hosts)) = &r.raw {
            if self.mode == Mode::Scalelite {
                let mut s = raw.clone();
                for h in hosts {
                    s = s.replace(h.as_str(), base);
                }
                out.push_str(&s);
            } else {
                out.push_str(raw);
            }
            out.push('\n');
            return;
        }
        let sl = self.mode == Mode::Scalelite;
        let _ = write!(
            out,
            "<recording><recordID>{}</recordID><meetingID>{}</meetingID>",
            r.record_id,
            esc(&r.meeting_id)
        );
        if sl {
            let _ = write!(
                out,
                "<internalMeetingID>{}</internalMeetingID>",
                r.record_id
            );
        } else {
            let iid = r.record_id.clone();
            let _ = write!(out, "<internalMeetingID>{iid}</internalMeetingID>");
        }
        let _ = write!(out, "<name><![CDATA[{}]]></name>", r.name);
        if !sl {
            let _ = write!(
                out,
                "<isBreakout>{}</isBreakout>",
                r.breakout_parent.is_some()
            );
        }
        let published = r.state == "published";
        let _ = write!(out, "<published>{published}</published>");
        if sl && self.protected_enabled(protected) {
            let _ = write!(out, "<protected>{protected}</protected>");
        }
        let _ = write!(
            out,
            "<state>{}</state><startTime>{}</startTime><endTime>{}</endTime><participants>{}</participants>",
            r.state, r.start_ms, r.end_ms, r.participants
        );
        if !sl {
            let _ = write!(out, "<rawSize>{}</rawSize>", 1000 + r.start_ms % 100_000);
        }
        out.push_str("<metadata>");
        for (k, v) in &r.metadata {
            if sl && matches!(k.as_str(), "isBreakout" | "meetingId" | "meetingName") {
                continue;
            }
            if v.is_empty() {
                let _ = write!(out, "<{k}><![CDATA[]]></{k}>");
            } else {
                let _ = write!(out, "<{k}>{}</{k}>", esc(v));
            }
        }
        out.push_str("</metadata>");
        if let (false, Some(p)) = (sl, &r.breakout_parent) {
            let _ = write!(
                out,
                "<breakout><parentId>{p}</parentId><sequence>1</sequence><freeJoin>false</freeJoin></breakout>"
            );
        }
        out.push_str("<playback>");
        for (kind, path, len) in &r.formats {
            let url = if sl && protected {
                format!(
                    "{base}/recording/{}/{kind}?token=tok-{}",
                    r.record_id, r.record_id
                )
            } else {
                format!("{base}{path}")
            };
            // Scalelite writes <length> before <processingTime>; BBB the other way round,
            // with whitespace around some values, as real servers do.
            if sl {
                let _ = write!(
                    out,
                    "<format><type>{kind}</type><url>{url}</url><length>{len}</length><processingTime>1234</processingTime>"
                );
            } else {
                let _ = write!(
                    out,
                    "<format><type>{kind}</type><url>\n  {url}\n  </url><processingTime>1234</processingTime><length>{len}</length><size>{}</size>",
                    4096 + len * 1000
                );
            }
            if kind == "presentation" && !(sl && protected) {
                let _ = write!(
                    out,
                    "<preview><images><image width=\"176\" height=\"136\" alt=\"Slide 1\">{base}/presentation/{}/presentation/p1/thumbnails/thumb-1.png</image></images></preview>",
                    r.record_id
                );
            }
            out.push_str("</format>");
        }
        out.push_str("</playback>");
        if !sl {
            out.push_str("<data/>");
        }
        out.push_str("</recording>\n");
    }

    fn protected_enabled(&self, _protected: bool) -> bool {
        true
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn load_xml(path: &Path, recs: &mut Vec<Rec>) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(path)?;
    let mut found = Vec::new();
    bbbmig_core::bbb::xml::parse(text.as_bytes(), |r, (a, b)| {
        found.push((r, text[a as usize..b as usize].to_string()));
        Ok(())
    })?;
    for (r, raw) in found {
        let hosts: Vec<String> = r
            .formats
            .iter()
            .filter_map(|f| url::Url::parse(&f.url).ok())
            .map(|u| u.origin().ascii_serialization())
            .collect();
        let state = bbbmig_core::bbb::recording::effective_state(&r);
        recs.push(Rec {
            meeting_id: r.meeting_id.clone().unwrap_or_else(|| r.record_id.clone()),
            name: r.name.clone().unwrap_or_default(),
            state,
            start_ms: r.start_time.unwrap_or(0),
            end_ms: r.end_time.unwrap_or(0),
            participants: 0,
            metadata: r.metadata.clone(),
            breakout_parent: None,
            formats: Vec::new(),
            record_id: r.record_id,
            raw: Some((raw, hosts)),
        });
    }
    Ok(())
}

/// The record ID of `DIR` when it is one published recording itself (`DIR/metadata.xml`
/// with its `<id>`, as `bbb-synth --out DIR` writes), not a folder of recordings.
pub fn single_recording(dir: &Path) -> Option<String> {
    let meta = std::fs::read_to_string(dir.join("metadata.xml")).ok()?;
    let a = meta.find("<id>")? + 4;
    let b = meta[a..].find("</id>")? + a;
    Some(meta[a..b].trim().to_string()).filter(|id| !id.is_empty() && !id.contains('/'))
}

/// Each `DIR/<recordID>/metadata.xml` (or `DIR/metadata.xml`, see [`single_recording`])
/// becomes a published presentation recording; a `video/video-0.m4v` adds the video
/// format, else a `meeting.mp4` a direct-MP4 one.
fn load_published(dir: &Path, recs: &mut Vec<Rec>) -> anyhow::Result<()> {
    let mut entries: Vec<(String, std::path::PathBuf)> = match single_recording(dir) {
        Some(id) => vec![(id, dir.to_path_buf())],
        None => std::fs::read_dir(dir)
            .with_context(|| format!("cannot read {}", dir.display()))?
            .filter_map(Result::ok)
            .filter(|e| e.path().join("metadata.xml").is_file())
            .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
            .collect(),
    };
    entries.sort();
    for (id, path) in entries {
        let meta = std::fs::read_to_string(path.join("metadata.xml"))?;
        let tag = |t: &str| -> Option<String> {
            let a = meta.find(&format!("<{t}>"))? + t.len() + 2;
            let b = meta[a..].find(&format!("</{t}>"))? + a;
            Some(meta[a..b].trim().to_string())
        };
        let start: i64 = tag("start_time").and_then(|s| s.parse().ok()).unwrap_or(0);
        let end: i64 = tag("end_time")
            .and_then(|s| s.parse().ok())
            .unwrap_or(start);
        let duration: i64 = tag("duration")
            .and_then(|s| s.parse().ok())
            .unwrap_or(end - start);
        let name = tag("meetingName").unwrap_or_else(|| id.clone());
        let meeting_id = tag("meetingId").unwrap_or_else(|| id.clone());
        let mut formats = vec![(
            "presentation".to_string(),
            format!("/playback/presentation/2.3/{id}"),
            (duration / 60000) as u32,
        )];
        if path.join("video").join("video-0.m4v").is_file() {
            formats.push((
                "video".to_string(),
                format!("/playback/video/{id}/"),
                (duration / 60000) as u32,
            ));
        } else if path.join("meeting.mp4").is_file() {
            // bbb-recording-exporter's "video" format: a direct MP4 URL.
            formats.push((
                "video".to_string(),
                format!("/presentation/{id}/meeting.mp4"),
                (duration / 60000) as u32,
            ));
        }
        recs.push(Rec {
            record_id: id.clone(),
            meeting_id: meeting_id.clone(),
            name: name.clone(),
            state: "published".into(),
            start_ms: start,
            end_ms: end,
            participants: 2,
            metadata: vec![
                ("meetingId".into(), meeting_id),
                ("meetingName".into(), name),
                ("isBreakout".into(), "false".into()),
            ],
            breakout_parent: None,
            formats,
            raw: None,
        });
    }
    Ok(())
}

/// A small deterministic generator (xorshift), enough for varied test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn sha1_hex(s: &str) -> String {
    hex::encode(Sha1::digest(s.as_bytes()))
}

/// Synthetic recordings: 60 % Moodle (two sites), 20 % Greenlight, 10 % Pod, 10 % no
/// origin; mostly published, some unpublished, processing and deleted; some with a video
/// format; some breakout rooms; names with markup characters and accents.
fn generate(n: usize, seed: u64, recs: &mut Vec<Rec>) {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let base_ms: i64 = 1_600_000_000_000;
    for i in 0..n {
        let kind = rng.below(10);
        let course = 2 + rng.below(40);
        let activity = 1 + rng.below(500);
        let (meeting_id, mut metadata, name) = match kind {
            0..=5 => {
                let host = if rng.below(2) == 0 {
                    "moodle.example.org"
                } else {
                    "moodle2.example.org"
                };
                let seed_hex = sha1_hex(&format!("activity-{host}-{activity}"));
                let name = format!("Cours n°{activity} <TD> & amphi");
                (
                    format!("{seed_hex}-{course}-{activity}[0]"),
                    vec![
                        ("bbb-origin".to_string(), "Moodle".to_string()),
                        ("bbb-origin-server-name".to_string(), host.to_string()),
                        (
                            "bbb-origin-version".to_string(),
                            "4.3.10 (Build: 20250210)".to_string(),
                        ),
                        ("bbb-context-id".to_string(), course.to_string()),
                        ("bbb-context-label".to_string(), format!("C{course}")),
                        ("bbb-recording-name".to_string(), name.clone()),
                        ("bbb-origin-server-common-name".to_string(), String::new()),
                    ],
                    name,
                )
            }
            6 | 7 => {
                let room: String = (0..40)
                    .map(|_| {
                        char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[rng.below(36) as usize])
                    })
                    .collect();
                (
                    room,
                    vec![
                        ("bbb-origin".to_string(), "greenlight".to_string()),
                        (
                            "bbb-origin-server-name".to_string(),
                            "greenlight.example.org".to_string(),
                        ),
                        ("gl-listed".to_string(), "false".to_string()),
                    ],
                    format!("Salle Greenlight {i}"),
                )
            }
            8 => (
                format!("{:04}-reunion-{i}", rng.below(9999)),
                vec![],
                format!("Réunion Pod {i}"),
            ),
            _ => (format!("meeting-{i}"), vec![], format!("Meeting {i}")),
        };
        let start = base_ms + (rng.below(150_000_000) as i64) * 1000 + i as i64;
        let dur_ms = (5 + rng.below(120) as i64) * 60_000 + rng.below(59_000) as i64;
        let record_id = format!("{}-{start}", sha1_hex(&meeting_id));
        metadata.push(("meetingId".to_string(), meeting_id.clone()));
        metadata.push(("meetingName".to_string(), name.clone()));
        let breakout = rng.below(40) == 0 && i > 0;
        metadata.push(("isBreakout".to_string(), breakout.to_string()));
        let state = match rng.below(20) {
            0 => "unpublished",
            1 => "processing",
            2 => "deleted",
            _ => "published",
        };
        let len = (dur_ms / 60_000) as u32;
        let mut formats = vec![(
            "presentation".to_string(),
            format!("/playback/presentation/2.3/{record_id}"),
            len,
        )];
        if rng.below(10) == 0 {
            formats.push((
                "video".to_string(),
                format!("/playback/video/{record_id}/"),
                len,
            ));
        }
        let parent = if breakout {
            recs.last().map(|p: &Rec| p.record_id.clone())
        } else {
            None
        };
        recs.push(Rec {
            record_id,
            meeting_id,
            name,
            state: state.to_string(),
            start_ms: start,
            end_ms: start + dur_ms,
            participants: 1 + rng.below(80) as u32,
            metadata,
            breakout_parent: parent,
            formats,
            raw: None,
        });
    }
}
