//! Durable commits: a file of records is written in a few transactions, not one per record
//! (PostgreSQL's own count of committed transactions in the database), with the same rows
//! as one transaction per record (`--batch 1`).

use crate::support::pod::{count, import, ndjson, pod_db, record};
use crate::support::run;
use bbbmig_core::db::Engine;
use std::time::{Duration, Instant};

/// Transactions committed in the database so far, as PostgreSQL counts them once the
/// sessions that made them have reported (at their end).
fn commits(db: &crate::support::pg::TestDb, at_least: i64) -> i64 {
    let t0 = Instant::now();
    loop {
        let n = count(
            db,
            &format!(
                "SELECT xact_commit FROM pg_stat_database WHERE datname = '{}'",
                db.name
            ),
        );
        if n >= at_least || t0.elapsed() > Duration::from_secs(5) {
            return n;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn records_are_committed_in_batches_not_one_by_one() {
    let recs: Vec<_> = (1..=300u32)
        .map(|n| record(n, &format!("m-{n}"), "Batched", &[&format!("u{}", n % 50)]))
        .collect();
    let input = ndjson(&recs);
    let mut rows = Vec::new();
    for batch in ["500", "1"] {
        let db = pod_db(Engine::Postgres, &format!("pod_commits_{batch}"));
        let before = commits(&db, 0);
        let mut c = import(&db);
        c.args(["--admin", "1", "--batch", batch]);
        run(c, &input).ok();
        let made = commits(&db, before + 1) - before;
        if batch == "1" {
            assert!(made >= 300, "--batch 1: one commit per record, got {made}");
        } else {
            // Start-up reads (each its own transaction) and a few batches, not 300.
            assert!(made < 60, "{made} transactions for 300 records");
        }
        assert_eq!(
            count(&db, "SELECT count(*) FROM import_video_externalrecording"),
            300
        );
        rows.push(
            [
                "auth_user",
                "authentication_owner",
                "authentication_owner_sites",
                "podfile_userfolder",
                "playlist_playlist",
            ]
            .map(|t| count(&db, &format!("SELECT count(*) FROM {t}"))),
        );
    }
    assert_eq!(rows[0], rows[1], "the same rows either way");
}
