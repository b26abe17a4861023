//! The job runner: records read on a thread, `--jobs N` of them worked on at once
//! (tokio), results written as they complete or in input order (`--keep-order`).

use super::work::{Ctx, process};
use crate::cli::{Input, Out};
use crate::error::{fatal, is_fatal};
use crate::ndjson::{Item, Reader};
use crate::record::Record;
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

struct Done {
    seq: u64,
    line: u64,
    original: Record,
    result: anyhow::Result<(Record, &'static str)>,
}

/// Reads `input` and works on up to `jobs` records at once. Per-record failures go to
/// `out.fail`; a fatal one (or a garbled input line) stops the run once the running
/// jobs are done.
pub async fn run(
    ctx: Arc<Ctx>,
    jobs: usize,
    keep_order: bool,
    input: &Input,
    out: &mut Out,
) -> anyhow::Result<()> {
    out.open_rejects(input.rejects.as_ref())?;
    let jobs = jobs.max(1);
    let window = if keep_order { jobs * 4 } else { jobs };
    let (item_tx, mut item_rx) = mpsc::channel::<anyhow::Result<Item>>(1);
    let path = input.input.clone();
    std::thread::spawn(move || {
        let mut reader = match Reader::open(&path) {
            Ok(r) => r,
            Err(e) => {
                let _ = item_tx.blocking_send(Err(e));
                return;
            }
        };
        loop {
            let next = reader.next_item().transpose();
            let end = !matches!(next, Some(Ok(_)));
            if let Some(n) = next {
                if item_tx.blocking_send(n).is_err() {
                    return;
                }
            }
            if end {
                return;
            }
        }
    });
    let ticker = ctx.board.spawn_ticker();
    let mut set: JoinSet<Done> = JoinSet::new();
    let mut pending: BTreeMap<u64, Done> = BTreeMap::new();
    let mut next_seq = 0u64;
    let mut next_emit = 0u64;
    let mut reading = true;
    let mut stop: Option<anyhow::Error> = None;
    let mut signals = Signals::new()?;
    let result = loop {
        let open = (set.len() + pending.len()) < window;
        tokio::select! {
            sig = signals.next() => {
                // Dropping the jobs kills their bbb-recorder children; renders stop
                // their ffmpeg runs; partial downloads stay for the next run.
                ctx.render.cancel.set();
                break Err(fatal(anyhow::anyhow!(
                    "interrupted by {sig}; partial downloads are kept for the next run"
                )));
            },
            item = item_rx.recv(), if reading && open && stop.is_none() => match item {
                None => reading = false,
                Some(Err(e)) => { reading = false; stop = Some(e); }
                Some(Ok(item)) => {
                    let seq = next_seq;
                    next_seq += 1;
                    match item.record {
                        Err(e) => {
                            // Valid JSON of the wrong shape: fails in its place.
                            pending.insert(seq, Done { seq, line: item.line, original: Record::new(), result: Err(e) });
                        }
                        Ok(rec) => {
                            let rec = crate::cli::strip_old_error(rec);
                            let ctx = ctx.clone();
                            let line = item.line;
                            set.spawn(async move {
                                let result = process(&ctx, rec.clone()).await;
                                Done { seq, line, original: rec, result }
                            });
                        }
                    }
                }
            },
            Some(joined) = set.join_next(), if !set.is_empty() => {
                let done = match joined {
                    Ok(d) => d,
                    Err(e) => break Err(anyhow::anyhow!("a job crashed: {e}")),
                };
                pending.insert(done.seq, done);
            },
            else => {}
        }
        // Write what may be written.
        let mut failed = None;
        while let Some(seq) = pending.keys().next().copied() {
            if keep_order && seq != next_emit {
                break;
            }
            let done = pending.remove(&seq).expect("present");
            next_emit = seq + 1;
            if let Err(e) = emit(out, done) {
                failed = Some(e);
                break;
            }
        }
        if let Some(e) = failed {
            break Err(e);
        }
        if !keep_order {
            next_emit = next_seq;
        }
        if (!reading || stop.is_some()) && set.is_empty() && pending.is_empty() {
            break match stop.take() {
                Some(e) => Err(e),
                None => Ok(()),
            };
        }
    };
    if let Some(t) = ticker {
        t.abort();
    }
    ctx.board.clear();
    let secs = ctx.board.elapsed();
    let bytes = ctx.board.bytes();
    if bytes > 0 {
        log::info!(
            "received {:.1} MB in {secs:.1} s ({:.1} MB/s)",
            bytes as f64 / 1e6,
            bytes as f64 / 1e6 / secs.max(0.001)
        );
    }
    result
}

/// SIGINT, SIGTERM and SIGHUP, caught so that running jobs are stopped cleanly.
struct Signals(Signal, Signal, Signal);

impl Signals {
    fn new() -> anyhow::Result<Signals> {
        Ok(Signals(
            signal(SignalKind::interrupt())?,
            signal(SignalKind::terminate())?,
            signal(SignalKind::hangup())?,
        ))
    }

    async fn next(&mut self) -> &'static str {
        tokio::select! {
            _ = self.0.recv() => "SIGINT",
            _ = self.1.recv() => "SIGTERM",
            _ = self.2.recv() => "SIGHUP",
        }
    }
}

fn emit(out: &mut Out, done: Done) -> anyhow::Result<()> {
    match done.result {
        Ok((rec, status)) => {
            out.count(status);
            out.emit(&rec)
        }
        Err(e) if is_fatal(&e) => Err(e.context(format!(
            "line {}: record {}",
            done.line,
            done.original.id_for_messages()
        ))),
        Err(e) => {
            let rec = (!done.original.0.is_empty()).then_some(&done.original);
            out.fail(done.line, rec, &e)
        }
    }
}
