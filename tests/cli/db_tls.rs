//! TLS and password sources of the connection layer against the throwaway servers of
//! scripts/test: PostgreSQL through moodle-moderators (role pwuser, TLS only), MariaDB through
//! the connection layer itself (account `tls` refused without TLS).

use crate::support::mysql::server;
use crate::support::{Run, cmd, moodle, run};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} unset: run scripts/test"))
}

/// A record moodle-moderators has to look up (any origin: the default database serves it).
const INPUT: &str = "{\"record_id\":\"r1\",\"meeting_id\":\"a94a8fe5ccb19ba61c4c0873d391e987982fbbd3-2-1[0]\",\"metadata\":{\"bbb-origin\":\"Moodle\"}}\n";

/// moodle-moderators on a fresh Moodle database as pwuser over TCP, with `tls` appended to
/// the conninfo; the password in a mode-600 database file.
fn moderators_as_pwuser(dir: &Path, tls: &str) -> Run {
    let db = moodle::moodle4("tls");
    let conninfo = format!(
        "host=127.0.0.1 port={} user={} dbname={} {tls}",
        var("BBBMIG_TEST_PGPORT"),
        var("BBBMIG_TEST_PGTLS_USER"),
        db.name
    );
    let f = dir.join("moodle.dbs");
    std::fs::write(
        &f,
        format!(
            "default={conninfo} password={}\n",
            var("BBBMIG_TEST_PGTLS_PASSWORD")
        ),
    )
    .unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut c = cmd("moodle-moderators");
    c.arg("--db-file").arg(&f);
    run(c, INPUT)
}

/// A second CA the servers' certificates do not come from.
fn other_ca(dir: &Path) -> String {
    let d = dir.join("other-ca");
    let st = std::process::Command::new(crate::support::root().join("scripts/test-ca"))
        .arg(&d)
        .status()
        .expect("run scripts/test-ca");
    assert!(st.success());
    d.join("ca.pem").display().to_string()
}

#[test]
fn pg_tls_verify_full_with_the_test_ca_passes() {
    let dir = tempfile::tempdir().unwrap();
    let ca = var("BBBMIG_TEST_PGTLS_CA");
    let out = moderators_as_pwuser(dir.path(), &format!("sslmode=verify-full sslrootcert={ca}"));
    out.ok();
    assert_eq!(out.records().len(), 1, "{out:?}");
    moderators_as_pwuser(dir.path(), "sslmode=verify-ca").fails_with(2);
    moderators_as_pwuser(dir.path(), &format!("sslmode=verify-ca sslrootcert={ca}")).ok();
}

#[test]
fn pg_tls_require_works_without_a_ca() {
    let dir = tempfile::tempdir().unwrap();
    moderators_as_pwuser(dir.path(), "sslmode=require").ok();
    // libpq's default (prefer) takes TLS when the server offers it.
    moderators_as_pwuser(dir.path(), "").ok();
}

#[test]
fn pg_tls_wrong_ca_fails_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let ca = other_ca(dir.path());
    moderators_as_pwuser(dir.path(), &format!("sslmode=verify-full sslrootcert={ca}"))
        .fails_with(2)
        .stderr_has("cannot connect to PostgreSQL pwuser@127.0.0.1")
        .stderr_has("certificate")
        .stderr_has(&format!("checked against CA {ca}"));
}

#[test]
fn pg_role_that_needs_tls_is_refused_without_it() {
    let dir = tempfile::tempdir().unwrap();
    moderators_as_pwuser(dir.path(), "sslmode=disable")
        .fails_with(2)
        .stderr_has("password from the connection string; TLS off")
        .stderr_has("no encryption");
}

/// A `mysql://` URL for one of the test accounts (`TLS`, `READER`...), password inside.
fn my_url(who: &str, query: &str) -> String {
    let s = server();
    format!(
        "mysql://{}:{}@{}:{}/{}?{query}",
        var(&format!("BBBMIG_TEST_MYSQL_{who}_USER")),
        var(&format!("BBBMIG_TEST_MYSQL_{who}_PASSWORD")),
        s.host,
        s.port,
        s.moodle_db
    )
}

/// One value of the session (`SELECT expr`).
fn my_value(c: &mut mysql::Conn, expr: &str) -> String {
    use mysql::prelude::Queryable;
    let v: Option<(Option<String>,)> = c.query_first(format!("SELECT {expr}")).unwrap();
    v.and_then(|r| r.0).unwrap_or_default()
}

#[test]
fn mysql_verify_identity_with_the_test_ca_passes_in_utf8mb4_and_utc() {
    let s = server();
    let url = my_url("TLS", &format!("ssl-mode=VERIFY_IDENTITY&ssl-ca={}", s.ca));
    let mut c = bbbmig_core::db::mysql::connect(&url).expect("connect over verified TLS");
    use mysql::prelude::Queryable;
    let cipher: Option<(String, String)> = c
        .query_first("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
        .unwrap();
    assert!(!cipher.unwrap().1.is_empty(), "no TLS cipher in use");
    assert_eq!(my_value(&mut c, "@@session.time_zone"), "+00:00");
    assert_eq!(my_value(&mut c, "@@character_set_connection"), "utf8mb4");
    assert_eq!(my_value(&mut c, "_utf8mb4'élodie 🎓'"), "élodie 🎓");
}

#[test]
fn mysql_required_works_without_a_ca_and_verify_ca_ignores_the_name() {
    let s = server();
    bbbmig_core::db::mysql::connect(&my_url("TLS", "ssl-mode=REQUIRED")).expect("REQUIRED");
    // The certificate names localhost and 127.0.0.1; VERIFY_CA does not look.
    let url = my_url("TLS", &format!("ssl-mode=VERIFY_CA&ssl-ca={}", s.ca));
    bbbmig_core::db::mysql::connect(&url).expect("VERIFY_CA");
    // PREFERRED (the MySQL default) takes TLS, which the tls account insists on.
    bbbmig_core::db::mysql::connect(&my_url("TLS", "")).expect("PREFERRED");
}

#[test]
fn mysql_wrong_ca_fails_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let ca = other_ca(dir.path());
    let url = my_url("TLS", &format!("ssl-mode=VERIFY_IDENTITY&ssl-ca={ca}"));
    let e = format!("{:#}", bbbmig_core::db::mysql::connect(&url).unwrap_err());
    assert!(e.contains("cannot connect to MariaDB/MySQL"), "{e}");
    assert!(e.contains(&format!("checked against CA {ca}")), "{e}");
    assert!(e.to_lowercase().contains("certificate"), "{e}");
    assert!(
        !e.contains(&var("BBBMIG_TEST_MYSQL_TLS_PASSWORD")),
        "password shown: {e}"
    );
}

#[test]
fn mysql_tls_account_is_refused_without_tls() {
    let e = format!(
        "{:#}",
        bbbmig_core::db::mysql::connect(&my_url("TLS", "ssl-mode=DISABLED")).unwrap_err()
    );
    assert!(e.contains("TLS off"), "{e}");
    assert!(e.contains("Access denied"), "{e}");
    // The plain reader gets in without TLS.
    bbbmig_core::db::mysql::connect(&my_url("READER", "ssl-mode=DISABLED")).expect("reader");
}

#[test]
fn mysql_urls_given_to_a_postgresql_only_tool_say_so() {
    // Greenlight runs only on PostgreSQL (the Moodle tools take both engines since issue 11).
    let s = server();
    let mut c = cmd("greenlight-owners");
    c.arg("--db").arg(format!(
        "default=mariadb://reader@{}:{}/{}",
        s.host, s.port, s.moodle_db
    ));
    run(c, INPUT)
        .fails_with(2)
        .stderr_has("this mariadb:// URL names a MariaDB/MySQL database");
    let mut c = cmd("moodle-moderators");
    c.arg("--db").arg("default=mysql://reader:hunter2@h/m");
    let out = run(c, INPUT);
    out.fails_with(2).stderr_has("~/.my.cnf [client]");
    assert!(!out.stderr.contains("hunter2"), "{out:?}");
}

/// moodle-moderators as pwuser over verified TLS with no password in the connection string,
/// HOME in `home` (where `~/.pgpass` is looked for).
fn moderators_with_home(home: &Path) -> Run {
    let db = moodle::moodle4("pgpass");
    let mut c = cmd("moodle-moderators");
    c.env("HOME", home)
        .env_remove("PGPASSFILE")
        .arg("--db")
        .arg(format!(
            "default=host=127.0.0.1 port={} user={} dbname={} sslmode=verify-full sslrootcert={}",
            var("BBBMIG_TEST_PGPORT"),
            var("BBBMIG_TEST_PGTLS_USER"),
            db.name,
            var("BBBMIG_TEST_PGTLS_CA")
        ));
    run(c, INPUT)
}

#[test]
fn pg_password_sources_are_named_when_the_login_fails() {
    let home = tempfile::tempdir().unwrap();
    let pgpass = home.path().join(".pgpass");
    let good = var("BBBMIG_TEST_PGTLS_PASSWORD");
    std::fs::write(&pgpass, format!("127.0.0.1:*:*:pwuser:{good}\n")).unwrap();
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o600)).unwrap();
    moderators_with_home(home.path()).ok();
    // Readable by others: ignored with a warning, and the failure says no password was found.
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o644)).unwrap();
    moderators_with_home(home.path())
        .fails_with(2)
        .stderr_has(&format!(
            "ignoring {}: it is readable by others",
            pgpass.display()
        ))
        .stderr_has("password from nowhere");
    // A wrong password: the failure names the file it came from and the server's reason.
    std::fs::write(&pgpass, "127.0.0.1:*:*:pwuser:bad-pass-7Q\n").unwrap();
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = moderators_with_home(home.path());
    out.fails_with(2)
        .stderr_has(&format!("password from {}", pgpass.display()))
        .stderr_has("password authentication failed");
    assert!(!out.stderr.contains("bad-pass-7Q"), "{out:?}");
}
