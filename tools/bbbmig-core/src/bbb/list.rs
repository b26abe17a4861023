//! Listing every recording of a server: recordID-prefix shards, BBB 2.6 pages, finer shards on failure.

use super::api::Api;
use super::collect::{Collector, Filter};
use super::xml::{self, Envelope, Recording, Span};
use crate::cli::Out;
use crate::error::fatal;
use crate::http::{self, FetchError, HttpOptions, redact};
use anyhow::{Context, anyhow, bail};
use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufReader, Seek};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

const HEX: &str = "0123456789abcdef";

/// What to ask the server for.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// `state` values (empty: published and unpublished, the server's default).
    pub states: Vec<String>,
    /// External meeting IDs (`meetingID`).
    pub meeting_ids: Vec<String>,
    /// Recording IDs or prefixes (`recordID`).
    pub record_ids: Vec<String>,
    /// `meta_<key>=value` filters.
    pub meta: Vec<(String, String)>,
}

impl From<&Filter> for Query {
    /// The server-side part of the client-side filters (origin servers are skipped here).
    fn from(f: &Filter) -> Query {
        Query {
            states: f.states.clone(),
            meeting_ids: f.meeting_ids.clone(),
            record_ids: f.record_ids.clone(),
            meta: f.meta.clone(),
        }
    }
}

/// How to list.
#[derive(Debug, Clone)]
pub struct Strategy {
    /// `limit` of each page on servers that paginate (BBB clamps it to 1..100).
    pub page_size: u32,
    /// Longest recordID prefix a failing shard is split down to.
    pub max_prefix_len: usize,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// IDs per request when listing given recordIDs or meetingIDs.
    pub ids_per_request: usize,
    /// Requests sent so far, read by bbb-list's status line while it lists.
    pub sent: Arc<AtomicU64>,
}

impl Default for Strategy {
    fn default() -> Self {
        Strategy {
            page_size: 100,
            max_prefix_len: 4,
            concurrency: 4,
            ids_per_request: 25,
            sent: Arc::default(),
        }
    }
}

/// Counters of one listing, for `-v`.
#[derive(Debug, Default, Clone)]
pub struct ListStats {
    pub requests: u64,
    pub retries: u64,
    pub splits: u64,
    pub paginated: bool,
}

impl std::fmt::Display for ListStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} requests, {} retries, {} shards split, paginated: {}",
            self.requests, self.retries, self.splits, self.paginated
        )
    }
}

#[derive(Debug, Clone)]
enum Scope {
    Prefix(String),
    RecordIds(Vec<String>),
    MeetingIds(Vec<String>),
}

#[derive(Debug, Clone)]
struct Job {
    scope: Scope,
    offset: u64,
    attempt: u32,
    /// The split this job came from (an index into the listing's groups).
    group: Option<usize>,
}

impl Job {
    fn new(scope: Scope) -> Job {
        Job {
            scope,
            offset: 0,
            attempt: 0,
            group: None,
        }
    }
    fn describe(&self) -> String {
        let s = match &self.scope {
            Scope::Prefix(p) => format!("recordID prefix {p:?}"),
            Scope::RecordIds(v) => format!("{} recordIDs from {}", v.len(), v[0]),
            Scope::MeetingIds(v) => format!("{} meetingIDs from {}", v.len(), v[0]),
        };
        if self.offset > 0 {
            format!("{s}, offset {}", self.offset)
        } else {
            s
        }
    }
    fn children(&self, max_prefix_len: usize) -> Option<Vec<Job>> {
        let scopes: Vec<Scope> = match &self.scope {
            Scope::Prefix(p) if p.len() < max_prefix_len => HEX
                .chars()
                .map(|c| Scope::Prefix(format!("{p}{c}")))
                .collect(),
            Scope::RecordIds(v) if v.len() > 1 => {
                let (a, b) = v.split_at(v.len() / 2);
                vec![Scope::RecordIds(a.to_vec()), Scope::RecordIds(b.to_vec())]
            }
            Scope::MeetingIds(v) if v.len() > 1 => {
                let (a, b) = v.split_at(v.len() / 2);
                vec![Scope::MeetingIds(a.to_vec()), Scope::MeetingIds(b.to_vec())]
            }
            _ => return None,
        };
        Some(scopes.into_iter().map(Job::new).collect())
    }
}

/// The finer parts of one failed job: when every one fails the way their parent did, the
/// fault is not the listing's size and splitting further would only multiply requests.
struct Group {
    parent: String,
    fault: &'static str,
    total: usize,
    same: usize,
    answered: bool,
    waiting: Vec<Job>,
}

/// Persistent faults stop the listing: this many failed requests in all, or no answer for
/// `stall` (at least [`MIN_STALL`]).
const MAX_FAILURES: u64 = 1000;
const MIN_STALL: Duration = Duration::from_secs(120);

/// Lists recordings from `api`, calling `sink` with each recording of each complete,
/// well-formed page, and the spooled page with the recording's byte span (for
/// `--save-xml`). The same recording may come twice (pages shift, shards re-listed):
/// the sink de-duplicates by recordID.
///
/// The API root and an empty listing are asked first ([`super::probe`]): only a server that
/// answered them is believed when a listing fails as if it were too large (HTTP 404 of BBB
/// 2.2, timeouts, 5xx), and such a listing is split into finer parts unless all of those
/// fail the same way. Failures are capped in number and in time without an answer.
pub async fn list(
    api: &Api,
    http_opts: &HttpOptions,
    query: &Query,
    strategy: &Strategy,
    mut sink: impl FnMut(Recording, &mut File, Span) -> anyhow::Result<()>,
) -> anyhow::Result<ListStats> {
    let client = http::client(http_opts)?;
    let mut stats = ListStats::default();
    let probe_job = Job::new(Scope::RecordIds(vec![super::probe::PROBE_RECORD_ID.into()]));
    let probe_params = params(query, &probe_job, 1);
    stats.requests += 2;
    strategy.sent.fetch_add(2, Ordering::Relaxed);
    super::probe::probe(api, &client, http_opts, &probe_params).await?;
    let mut queue: VecDeque<Job> = initial_jobs(query, strategy);
    let mut groups: Vec<Group> = Vec::new();
    let mut warned: Vec<&'static str> = Vec::new();
    let mut failures = 0u64;
    let mut last_answer = Instant::now();
    let stall = MIN_STALL.max(http_opts.timeout * (http_opts.retries + 2));
    let mut running: JoinSet<(Job, Result<File, FetchError>)> = JoinSet::new();
    loop {
        if queue.is_empty() && running.is_empty() {
            // Parts that failed like their parent while a sibling was still out: no sibling
            // showed it was a fault rather than size; split them as any failed listing.
            for g in &mut groups {
                queue.extend(g.waiting.drain(..).map(released));
            }
        }
        while running.len() < strategy.concurrency.max(1) {
            let Some(job) = queue.pop_front() else { break };
            let owned = params(query, &job, strategy.page_size);
            let pairs: Vec<(&str, &str)> = owned
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let url = api.url("getRecordings", &pairs);
            let shown = redact(&url);
            log::debug!("GET {shown}");
            stats.requests += 1;
            strategy.sent.fetch_add(1, Ordering::Relaxed);
            let client = client.clone();
            let delay = if job.attempt > 0 {
                http::backoff(http_opts.backoff, job.attempt)
            } else {
                Default::default()
            };
            let timeout = http_opts.timeout;
            running.spawn(async move {
                tokio::time::sleep(delay).await;
                let r = http::get_to_file(&client, &url, &shown, timeout).await;
                (job, r)
            });
        }
        let Some(joined) = running.join_next().await else {
            break;
        };
        let (job, fetched) =
            joined.map_err(|e| anyhow!("internal error in a request task: {e}"))?;
        let outcome = match fetched {
            Ok(mut file) => match validate(&mut file) {
                Ok(env) => Ok((file, env)),
                Err(e) => Err(Failure::Garbled(e)),
            },
            Err(e) => Err(Failure::Fetch(e)),
        };
        match outcome {
            Ok((mut file, env)) => {
                if !env.success() {
                    return Err(refused(&env));
                }
                last_answer = Instant::now();
                if let Some(g) = job.group.map(|i| &mut groups[i]) {
                    g.answered = true;
                    queue.extend(g.waiting.drain(..).map(released));
                }
                if let Some(total) = env.total_elements {
                    stats.paginated = true;
                    if job.offset == 0 {
                        let step = u64::from(strategy.page_size.max(1));
                        let mut off = step;
                        while off < total {
                            queue.push_back(Job {
                                scope: job.scope.clone(),
                                offset: off,
                                attempt: 0,
                                group: None,
                            });
                            off += step;
                        }
                    }
                }
                file.rewind()?;
                let prefix = match &job.scope {
                    Scope::Prefix(p) => Some(p.clone()),
                    _ => None,
                };
                let mut ignores_prefix = false;
                let mut reopened = file.try_clone()?;
                xml::parse(BufReader::new(file), |rec, span| {
                    if let Some(p) = &prefix {
                        if !rec.record_id.starts_with(p.as_str()) {
                            ignores_prefix = true;
                        }
                    }
                    sink(rec, &mut reopened, span)
                })?;
                if ignores_prefix {
                    // An old server that ignores recordID: this answer was the whole listing.
                    log::info!(
                        "the server ignores the recordID filter: its first answer lists everything"
                    );
                    queue.retain(|j| !matches!(j.scope, Scope::Prefix(_)));
                    running.abort_all();
                }
            }
            Err(failure) => {
                failures += 1;
                let kind = failure.kind();
                if failures >= MAX_FAILURES || last_answer.elapsed() > stall {
                    return Err(fatal(anyhow!(
                        "giving up after {failures} failed requests, the last {}s without an answer; last error: {} failed ({failure})",
                        last_answer.elapsed().as_secs(),
                        job.describe()
                    )));
                }
                if !warned.contains(&kind) {
                    warned.push(kind);
                    log::warn!(
                        "{} failed ({failure}); listing it in finer parts or again (more such failures at -v)",
                        job.describe()
                    );
                }
                let splittable = failure.splittable();
                let transient = failure.transient();
                if splittable {
                    if let Some(i) = job.group {
                        let g = &mut groups[i];
                        if g.fault == kind && !g.answered {
                            g.same += 1;
                            if g.same == g.total {
                                return Err(fatal(anyhow!(
                                    "cannot list {}: every finer part fails the same way, the last: {} failed ({failure})",
                                    g.parent,
                                    job.describe()
                                )));
                            }
                            log::info!(
                                "{} failed like its parent ({failure}); waiting for its siblings",
                                job.describe()
                            );
                            g.waiting.push(job);
                            continue;
                        }
                    }
                    if job.children(strategy.max_prefix_len).is_some() {
                        log::info!("{} failed ({}); splitting it", job.describe(), failure);
                        stats.splits += 1;
                        groups.push(Group {
                            parent: job.describe(),
                            fault: kind,
                            total: 0,
                            same: 0,
                            answered: false,
                            waiting: Vec::new(),
                        });
                        let gi = groups.len() - 1;
                        let kids = children_of(&job, strategy, gi);
                        groups[gi].total = kids.len();
                        queue.extend(kids);
                        continue;
                    }
                }
                if transient && job.attempt < http_opts.retries {
                    log::info!("{} failed ({}); retrying", job.describe(), failure);
                    stats.retries += 1;
                    queue.push_back(Job {
                        attempt: job.attempt + 1,
                        ..job
                    });
                    continue;
                }
                return Err(fatal(anyhow!("cannot list {}: {failure}", job.describe())));
            }
        }
    }
    Ok(stats)
}

/// A part held back while its siblings were out, asked again as any other listing.
fn released(job: Job) -> Job {
    Job { group: None, ..job }
}

/// The finer parts of `job`, in split group `group`.
fn children_of(job: &Job, strategy: &Strategy, group: usize) -> Vec<Job> {
    let mut kids = job.children(strategy.max_prefix_len).unwrap_or_default();
    for k in &mut kids {
        k.group = Some(group);
    }
    kids
}

/// Lists the recordings of a saved getRecordings answer (`--from-xml`) into `c`, as if
/// the server had sent it.
pub fn from_xml(path: &Path, c: &mut Collector, out: &mut Out) -> anyhow::Result<()> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut page = file.try_clone()?;
    let env = xml::parse(BufReader::new(file), |rec, span| {
        c.add(rec, &mut page, span, out)
    })
    .with_context(|| format!("{} is not a usable getRecordings answer", path.display()))?;
    if !env.success() {
        bail!(
            "{} holds a FAILED answer ({})",
            path.display(),
            env.message_key.unwrap_or_default()
        );
    }
    Ok(())
}

enum Failure {
    Fetch(FetchError),
    Garbled(anyhow::Error),
}

impl Failure {
    /// The way it failed, to compare a part with its parent.
    fn kind(&self) -> &'static str {
        match self {
            Failure::Fetch(FetchError::Status { status, .. }) if *status == 404 => "HTTP 404",
            Failure::Fetch(FetchError::Status { .. }) => "HTTP error",
            Failure::Fetch(FetchError::Timeout { .. }) => "timeout",
            Failure::Fetch(FetchError::Body { .. }) => "broken answer",
            Failure::Fetch(_) => "connection",
            Failure::Garbled(_) => "unusable answer",
        }
    }
    fn splittable(&self) -> bool {
        match self {
            Failure::Fetch(FetchError::Timeout { .. } | FetchError::Body { .. }) => true,
            Failure::Fetch(FetchError::Status { status, .. }) => *status == 404 || *status >= 500,
            Failure::Fetch(_) => false,
            Failure::Garbled(_) => true,
        }
    }
    fn transient(&self) -> bool {
        match self {
            Failure::Fetch(e) => e.is_transient(),
            Failure::Garbled(_) => true,
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Fetch(e) => write!(f, "{e}"),
            Failure::Garbled(e) => write!(f, "unusable answer: {e:#}"),
        }
    }
}

/// First pass over a spooled page: well-formed, complete, with a return code.
fn validate(file: &mut File) -> anyhow::Result<Envelope> {
    let env = xml::parse(BufReader::new(&mut *file), |_, _| Ok(()))?;
    Ok(env)
}

pub(super) fn refused(env: &Envelope) -> anyhow::Error {
    let key = env.message_key.as_deref().unwrap_or("?");
    let msg = env.message.as_deref().unwrap_or("");
    let hint = match key {
        "checksumError" => {
            ": check BBB_SECRET (or --secret-file) and --checksum (Scalelite refuses sha384, BBB before 2.5 needs sha1)"
        }
        "missingParameters" => {
            ": the server refuses this listing (Scalelite GET_RECORDINGS_API_FILTERED)"
        }
        _ => "",
    };
    fatal(anyhow!("the server answered FAILED ({key}: {msg}){hint}"))
}

fn initial_jobs(query: &Query, strategy: &Strategy) -> VecDeque<Job> {
    let n = strategy.ids_per_request.max(1);
    if !query.record_ids.is_empty() {
        query
            .record_ids
            .chunks(n)
            .map(|c| Job::new(Scope::RecordIds(c.to_vec())))
            .collect()
    } else if !query.meeting_ids.is_empty() {
        query
            .meeting_ids
            .chunks(n)
            .map(|c| Job::new(Scope::MeetingIds(c.to_vec())))
            .collect()
    } else {
        HEX.chars()
            .map(|c| Job::new(Scope::Prefix(c.to_string())))
            .collect()
    }
}

fn params(query: &Query, job: &Job, page_size: u32) -> Vec<(String, String)> {
    let mut p: Vec<(String, String)> = Vec::new();
    match &job.scope {
        Scope::Prefix(pre) => p.push(("recordID".into(), pre.clone())),
        Scope::RecordIds(ids) => p.push(("recordID".into(), ids.join(","))),
        Scope::MeetingIds(ids) => p.push(("meetingID".into(), ids.join(","))),
    }
    let states = if query.states.is_empty() {
        "published,unpublished".to_string()
    } else {
        query.states.join(",")
    };
    p.push(("state".into(), states));
    for (k, v) in &query.meta {
        p.push((format!("meta_{}", k.to_ascii_lowercase()), v.clone()));
    }
    p.push(("offset".into(), job.offset.to_string()));
    p.push(("limit".into(), page_size.to_string()));
    p
}
