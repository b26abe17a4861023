//! Which Greenlight database serves which origin server: moodle-moderators' `--db` /
//! `--db-file` grammar, plus a clear refusal of a web address where a database belongs.

use crate::moodle::config::{DbEntry, collect_for};
use anyhow::bail;
use std::path::PathBuf;

/// Every database of `--db` values and `--db-file` files (no password in `--db`, files
/// mode 600, a name given twice refused). A web address (`https://…`, the Greenlight or
/// Moodle site rather than its database) is refused with a message saying so.
pub fn collect(db_args: &[String], db_files: &[PathBuf]) -> anyhow::Result<Vec<DbEntry>> {
    for a in db_args {
        if let Some((name, conninfo)) = a.split_once('=') {
            refuse_web_address(name.trim(), conninfo.trim())?;
        }
    }
    let entries = collect_for("Greenlight", db_args, db_files)?;
    for e in &entries {
        refuse_web_address(&e.name, &e.conninfo)?;
    }
    Ok(entries)
}

fn refuse_web_address(name: &str, conninfo: &str) -> anyhow::Result<()> {
    let lower = conninfo.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        bail!(
            "database {name}: {conninfo:?} is a web address, not a PostgreSQL connection string: \
             give Greenlight's database (host=… dbname=greenlight… user=…, or postgresql://…)"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_addresses_are_refused_clearly() {
        let e = collect(&["gl.example.org=https://moodle.example.org/".into()], &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("is a web address"), "{e}");
        assert!(collect(&["gl.example.org=dbname=gl".into()], &[]).is_ok());
        let e = collect(&[], &[]).unwrap_err().to_string();
        assert!(e.contains("no Greenlight database"), "{e}");
    }
}
