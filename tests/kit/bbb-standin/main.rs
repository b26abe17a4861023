//! `bbb-standin`: a stand-in BBB / Scalelite server for tests, the demo and benchmarks.
//!
//! Serves getRecordings with real checksum checks, filters and pagination, the failure modes
//! of real servers (BBB 2.2 listings that time out as HTTP 404, Scalelite's refusal of
//! unfiltered listings), injected faults, and published recording files.

mod api;
mod faults;
mod files;
mod store;

use clap::Parser;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// Command line of the stand-in.
#[derive(Parser, Debug, Clone)]
#[command(about = "Stand-in BigBlueButton / Scalelite server for tests and the demo")]
pub struct Opts {
    /// Address to listen on (port 0: any free port; the address is printed on stdout).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Shared secret (a test server: a flag is fine here).
    #[arg(long, default_value = "standin-secret")]
    pub secret: String,
    /// Server behaviour: bbb26 (offset/limit pagination), bbb22 (no pagination), scalelite.
    #[arg(long, value_enum, default_value = "bbb26")]
    pub mode: store::Mode,
    /// Accepted checksum algorithms (default: all for BBB, sha1,sha256,sha512 for Scalelite).
    #[arg(long, value_delimiter = ',')]
    pub algorithms: Vec<String>,
    /// Load the recordings of a getRecordings answer (repeatable).
    #[arg(long, value_name = "FILE")]
    pub xml: Vec<PathBuf>,
    /// Generate N synthetic recordings (Moodle, Greenlight and Pod origins, all states).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub generate: usize,
    /// Seed of the generator.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Serve published recordings from DIR (DIR/<recordID>/metadata.xml, … under /presentation/).
    #[arg(long, value_name = "DIR")]
    pub published: Option<PathBuf>,
    /// bbb22: a listing that would hold more than N recordings fails with HTTP 404 (nginx timeout).
    #[arg(long, value_name = "N")]
    pub max_listing: Option<usize>,
    /// Milliseconds a failing oversized listing takes before its 404.
    #[arg(long, default_value_t = 0)]
    pub slow_ms: u64,
    /// bbb26: allowFetchAllRecordings=false.
    #[arg(long)]
    pub no_fetch_all: bool,
    /// scalelite: GET_RECORDINGS_API_FILTERED=true (unfiltered listings refused).
    #[arg(long)]
    pub filtered: bool,
    /// scalelite: protected recordings (one-time token URLs, cookie-guarded files).
    #[arg(long)]
    pub protected: bool,
    /// Inject a fault: KIND[:ARG][@MATCH][*COUNT], KIND = status, delay, html, truncate;
    /// MATCH = substring of the request path+query; COUNT = times (default always).
    #[arg(long, value_name = "SPEC")]
    pub fault: Vec<String>,
    /// Published-file transfer fault: KIND:ARG[@MATCH][*COUNT], KIND = drop (close the
    /// connection after ARG bytes), slow (ARG bytes per second), status (HTTP ARG),
    /// norange (Range headers ignored);
    /// MATCH = substring of the file's path; COUNT = times (default always).
    #[arg(long, value_name = "SPEC")]
    pub file_fault: Vec<String>,
    /// Write the whole listing as one getRecordings answer to FILE and exit (benchmarks).
    #[arg(long, value_name = "FILE")]
    pub dump_xml: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let opts = Opts::parse();
    let store = store::Store::load(&opts)?;
    if let Some(path) = &opts.dump_xml {
        return store.dump(path, "http://127.0.0.1");
    }
    let faults = faults::Faults::parse(&opts.fault)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(opts.listen).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(api::State::new(opts.clone(), store, faults));
        let app = api::routes(state.clone()).merge(files::routes(state)?);
        {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            writeln!(out, "listening on http://{addr}")?;
            out.flush()?;
        }
        axum::serve(listener, app).await?;
        anyhow::Ok(())
    })
}
