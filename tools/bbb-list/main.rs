//! `bbb-list`: list every recording of a BBB server or Scalelite cluster as NDJSON. See bbb-list(1).

use anyhow::Context;
use bbbmig_core::bbb::api::{Api, Checksum};
use bbbmig_core::bbb::collect::{Collector, Filter};
use bbbmig_core::bbb::list::{self, Query, Strategy};
use bbbmig_core::bbb::recording::{PlaybackForm, State};
use bbbmig_core::cli::{self, Common};
use bbbmig_core::http::HttpOptions;
use bbbmig_core::settings::Missing;
use bbbmig_core::{secret, statusline, watch};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const EXAMPLES: &str = "Examples:
  export BBB_URL=https://bbb.example.org/bigbluebutton/  BBB_SECRET=…
  bbb-list | head -n 2                       the two most recent recordings
  bbb-list --state any --save-xml all.xml    everything, and keep the raw answer
  bbb-list --from-xml all.xml --meta bbb-origin=Moodle | jq -r .record_id
  bbb-list --checksum sha1 --playback 2.3    an old server, 2.3 player links";

/// List the recordings of a BigBlueButton server or Scalelite cluster, one NDJSON record
/// per line, newest first.
#[derive(clap::Parser, Debug)]
#[command(version, after_help = EXAMPLES)]
struct Args {
    /// API base: https://host/, https://host/bigbluebutton/ or https://host/bigbluebutton/api/
    /// (a …/api/getRecordings URL copied from a browser is accepted).
    #[arg(long, env = "BBB_URL", value_name = "URL")]
    server: Option<String>,
    /// Read the shared secret from FILE (first line) instead of the BBB_SECRET variable.
    #[arg(long, value_name = "FILE")]
    secret_file: Option<PathBuf>,
    /// Checksum algorithm: sha1 for servers before BBB 2.5; Scalelite refuses sha384.
    #[arg(long, value_enum, default_value = "sha256")]
    checksum: Checksum,
    /// Only recordings in these states; repeatable or comma-separated. Default:
    /// published,unpublished.
    #[arg(long, value_enum, value_name = "STATE", value_delimiter = ',')]
    state: Vec<State>,
    /// Only recordings of these external meeting IDs; repeatable or comma-separated.
    #[arg(long, value_name = "ID", value_delimiter = ',')]
    meeting_id: Vec<String>,
    /// Only recordings whose recordID starts with one of these; repeatable or comma-separated.
    #[arg(long, value_name = "ID", value_delimiter = ',')]
    record_id: Vec<String>,
    /// Only recordings whose metadata KEY matches VALUE (BBB % wildcards); repeatable, all must match.
    #[arg(long, value_name = "KEY=VALUE", value_parser = parse_meta)]
    meta: Vec<(String, String)>,
    /// Skip recordings whose bbb-origin-server-name is NAME (`default`: recordings without
    /// one); repeatable or comma-separated.
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    ignore_origin_server: Vec<String>,
    /// Presentation links as sent (2.0) or rewritten to the 2.3 player (2.3).
    #[arg(long, value_enum, default_value = "2.0")]
    playback: PlaybackForm,
    /// Also write every listed <recording> as one getRecordings XML document to FILE.
    #[arg(long, value_name = "FILE", conflicts_with = "from_xml")]
    save_xml: Option<PathBuf>,
    /// Read a saved getRecordings answer instead of the network (no secret needed).
    #[arg(long, value_name = "FILE")]
    from_xml: Option<PathBuf>,
    /// Stream records in server order instead of sorting them newest first.
    #[arg(long)]
    no_sort: bool,
    /// Seconds to wait for one answer before splitting or retrying the request.
    #[arg(long, value_name = "SECS", value_parser = bbbmig_core::values::at_least_one::<u64>, default_value_t = 300)]
    timeout: u64,
    /// Retries of a failed request (with doubling backoff) before giving up.
    #[arg(long, value_name = "N", default_value_t = 2)]
    retries: u32,
    /// Requests in flight at once.
    #[arg(long, value_name = "N", value_parser = bbbmig_core::values::at_least_one::<usize>, default_value_t = 4)]
    concurrency: usize,
    #[command(flatten)]
    common: Common,
}

bbbmig_core::tool_args!(Args);

fn parse_meta(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_ascii_lowercase(), v.to_string())),
        _ => Err(format!("expected KEY=VALUE, got {s:?}")),
    }
}

/// The status line while listing: requests sent, recordings found, time.
fn status_line(strategy: &Strategy, found: &Arc<AtomicU64>) -> statusline::Ticker {
    let (sent, found) = (strategy.sent.clone(), found.clone());
    let started = Instant::now();
    statusline::Ticker::start(move || {
        format!(
            "bbb-list: {} requests, {} recordings found, {} s",
            sent.load(Ordering::Relaxed),
            found.load(Ordering::Relaxed),
            started.elapsed().as_secs()
        )
    })
}

fn main() -> ExitCode {
    cli::run("bbb-list", |args: Args, out| {
        let filter = Filter {
            states: State::names(&args.state),
            meeting_ids: args.meeting_id.clone(),
            record_ids: args.record_id.clone(),
            meta: args.meta.clone(),
            ignore_origin: args.ignore_origin_server.clone(),
        };
        let sort = !args.no_sort;
        if let Some(path) = &args.from_xml {
            let mut c = Collector::new(filter, args.server.clone(), args.playback, sort, None)?;
            list::from_xml(path, &mut c, out)?;
            return c.finish(out);
        }
        let mut cfg = Missing::new(out.tool());
        if args.server.is_none() {
            cfg.add("no server: give --server URL or set BBB_URL");
        }
        let secret = cfg.take(secret::load(
            "BBB_SECRET",
            "--secret-file",
            args.secret_file.as_deref(),
        ));
        let api = match (&args.server, secret) {
            (Some(server), Some(secret)) => {
                cfg.take(Api::new(server, secret, args.checksum).context("--server (BBB_URL)"))
            }
            _ => None,
        };
        let api = cfg.finish_with(api)?;
        let http = HttpOptions {
            timeout: Duration::from_secs(args.timeout),
            retries: args.retries,
            ..Default::default()
        };
        let query = Query::from(&filter);
        let strategy = Strategy {
            concurrency: args.concurrency,
            ..Default::default()
        };
        let found = Arc::new(AtomicU64::new(0));
        let ticker = status_line(&strategy, &found);
        let base = Some(bbbmig_core::http::redact(api.base()));
        let save = args.save_xml.as_deref();
        let mut c = Collector::new(filter, base, args.playback, sort, save)?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let listing = list::list(&api, &http, &query, &strategy, |rec, page, span| {
            found.fetch_add(1, Ordering::Relaxed);
            c.add(rec, page, span, out)
        });
        // Sorted, nothing is written before the listing is done: a reader that leaves
        // meanwhile (the next stage died at start) is noticed here, not at the end.
        let stats = rt.block_on(async {
            tokio::select! {
                r = listing => r,
                () = watch::reader_left(), if sort => {
                    Err(watch::stopped("the listing was not finished"))
                }
            }
        })?;
        drop(ticker);
        log::info!("{stats}");
        c.finish(out)
    })
}
