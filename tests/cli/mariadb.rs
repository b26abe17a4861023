//! The throwaway MariaDB of scripts/test: TLS, accounts, time zone, and the Pod and Moodle
//! fixture databases scripts/mariadb-fixtures loaded (the ground the MariaDB tool tests stand on).

use crate::support::fixture;
use crate::support::mysql::{Account, Tls, server};
use sha2::{Digest, Sha256};

/// The table names a fixture file creates, sorted.
fn created_tables(files: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = files
        .iter()
        .flat_map(|f| {
            let sql = std::fs::read_to_string(fixture(f)).expect("read fixture");
            sql.lines()
                .filter_map(|l| l.strip_prefix("CREATE TABLE "))
                .map(|rest| {
                    rest.split([' ', '('])
                        .next()
                        .unwrap_or_default()
                        .trim_matches('`')
                        .to_owned()
                })
                .collect::<Vec<_>>()
        })
        .collect();
    names.sort();
    names
}

fn tables_of(db: &str) -> Vec<String> {
    let s = server();
    let rows = s.rows(
        db,
        "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()",
    );
    // Sorted here: the server's collation orders '_' apart from Rust's byte order.
    let mut names: Vec<String> = rows.into_iter().map(|r| r[0].clone()).collect();
    names.sort();
    names
}

#[test]
fn mariadb_pod_database_has_the_schema_and_the_seed() {
    let s = server();
    let expected = created_tables(&["pod/stubs_mysql.sql", "pod/pod_schema_mysql.sql"]);
    assert_eq!(expected.len(), 16, "{expected:?}");
    assert_eq!(tables_of(&s.pod_db), expected);
    // The seed's hashkeys are Pod's: sha256 of SECRET_KEY + username, as on PostgreSQL.
    let rows = s.rows(
        &s.pod_db,
        "SELECT u.username, o.hashkey FROM auth_user u JOIN authentication_owner o \
         ON o.user_id = u.id ORDER BY u.id",
    );
    let names: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(names, ["admin", "podteacher", "cohost", "marie.dupont"]);
    for r in &rows {
        let want = hex::encode(Sha256::digest(format!("test-pod-secret-key{}", r[0])));
        assert_eq!(r[1], want, "hashkey of {}", r[0]);
    }
    // Usernames compare as Pod's MariaDB does: case- and accent-insensitively.
    let hit = s.rows(
        &s.pod_db,
        "SELECT id FROM auth_user WHERE username = 'PODTÉACHER'",
    );
    assert_eq!(hit, [["2"]]);
    let dur = s.rows(&s.pod_db, "SELECT expected_duration FROM meeting");
    assert_eq!(
        dur,
        [["7200000000"]],
        "DurationField is microseconds on MySQL"
    );
}

#[test]
fn mariadb_moodle_database_has_the_schema_and_the_sample_rows() {
    let s = server();
    let expected = created_tables(&["moodle/moodle4_schema_mysql.sql"]);
    assert_eq!(expected.len(), 13, "{expected:?}");
    assert_eq!(tables_of(&s.moodle_db), expected);
    // 5 activities from moodle4_sample_data.sql, 6 from moodle4_extra.sql.
    let n = s.rows(&s.moodle_db, "SELECT COUNT(*) FROM mdl_bigbluebuttonbn");
    assert_eq!(n, [["11"]]);
    let coll = s.rows(
        &s.moodle_db,
        "SELECT collation_name FROM information_schema.columns WHERE table_schema = DATABASE() \
         AND table_name = 'mdl_user' AND column_name = 'username'",
    );
    assert_eq!(coll, [["utf8mb4_unicode_ci"]]);
    // AUTO_INCREMENT went past the explicit ids without PostgreSQL's setval.
    let next = s.rows(
        &s.moodle_db,
        "SELECT auto_increment > (SELECT MAX(id) FROM mdl_user) FROM information_schema.tables \
         WHERE table_schema = DATABASE() AND table_name = 'mdl_user'",
    );
    assert_eq!(next, [["1"]]);
}

#[test]
fn mariadb_tls_account_needs_tls_and_the_certificate_verifies() {
    let s = server();
    let sql = "SELECT VARIABLE_VALUE LIKE 'TLSv1.%' FROM information_schema.SESSION_STATUS \
               WHERE VARIABLE_NAME = 'Ssl_version'";
    let on = s.query(Account::Tls, Tls::VerifyIdentity, &s.moodle_db, sql);
    assert!(on.ok, "{}", on.stderr);
    assert_eq!(on.rows, [["1"]]);
    let off = s.query(Account::Tls, Tls::Off, &s.moodle_db, sql);
    assert!(!off.ok, "a REQUIRE SSL account got in without TLS");
    assert!(off.stderr.contains("Access denied"), "{}", off.stderr);
    // Other accounts may still connect in clear: require_secure_transport is off.
    let clear = s.query(Account::Reader, Tls::Off, &s.moodle_db, "SELECT 1");
    assert!(clear.ok, "{}", clear.stderr);
}

#[test]
fn mariadb_server_runs_in_europe_paris_and_speaks_utf8mb4() {
    let s = server();
    let rows = s.rows(
        &s.moodle_db,
        "SELECT @@global.time_zone, NOW() <> UTC_TIMESTAMP(), @@character_set_server, \
         @@collation_server, CHAR_LENGTH('Élodie 😀'), '😀'",
    );
    assert_eq!(
        rows,
        [[
            "Europe/Paris",
            "1",
            "utf8mb4",
            "utf8mb4_unicode_ci",
            "8",
            "😀"
        ]]
    );
}

#[test]
fn mariadb_reader_cannot_update_and_writer_can() {
    let s = server();
    let sql = "UPDATE mdl_course SET cacherev = cacherev WHERE id = -1";
    let reader = s.query(Account::Reader, Tls::VerifyIdentity, &s.moodle_db, sql);
    assert!(!reader.ok);
    assert!(
        reader.stderr.contains("UPDATE command denied"),
        "{}",
        reader.stderr
    );
    let writer = s.query(Account::Writer, Tls::VerifyIdentity, &s.moodle_db, sql);
    assert!(writer.ok, "{}", writer.stderr);
}
