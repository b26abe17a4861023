//! Fuzz target: connection strings (db/mod.rs, db/pg.rs, db/mysql.rs): the first line is a
//! connection string, the rest a database file (`NAME=CONNINFO` lines) and the password
//! file (.pgpass) it is completed from.
#![no_main]

use bbbmig_core::db;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (conninfo, rest) = bbbmig_fuzz::first_line(data);
    let file = bbbmig_fuzz::private_file("dbfile", rest);
    // SAFETY: the fuzzer runs this target on one thread.
    unsafe {
        std::env::set_var("PGPASSFILE", &file);
        std::env::remove_var("PGPASSWORD");
    }
    let _ = db::check_syntax(&conninfo);
    let _ = db::refuse_password_in_argv(&conninfo);
    if let Ok(t) = db::pg::target(&conninfo) {
        let _ = db::pg::describe(&t.config);
    }
    if let Ok(t) = db::mysql::Target::parse(&conninfo) {
        let _ = t.describe();
    }
    let _ = db::read_db_file(&file);
});
