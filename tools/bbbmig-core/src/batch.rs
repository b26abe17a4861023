//! Records in batches, for stages that query a database once per batch: the record source
//! of `cli::Out::records` grouped, with the per-record error handling of `cli::Out::filter`.

use crate::cli::{Input, Out};
use crate::record::Record;

/// One record waiting in a batch, with its input line number.
pub struct Pending {
    /// 1-based input line.
    pub line: u64,
    /// The record as read (a previous run's `error` key removed).
    pub rec: Record,
}

/// Reads the input in batches of `size` records and hands each batch to `f`, which emits
/// or fails every record itself. Records that are not JSON objects fail here; a garbled
/// stream or an error returned by `f` stops everything.
pub fn for_each_batch(
    out: &mut Out,
    input: &Input,
    size: usize,
    mut f: impl FnMut(&mut Out, Vec<Pending>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let size = size.max(1);
    let mut batch = Vec::with_capacity(size);
    for item in out.records(input)? {
        let item = item?;
        match item.record {
            Ok(rec) => batch.push(Pending {
                line: item.line,
                rec,
            }),
            Err(e) => out.fail(item.line, None, &e)?,
        }
        if batch.len() >= size {
            f(out, std::mem::take(&mut batch))?;
        }
    }
    if !batch.is_empty() {
        f(out, batch)?;
    }
    Ok(())
}
