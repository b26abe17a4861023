//! Greenlight databases for tests: the fixture schemas and data of tests/fixtures/greenlight
//! loaded into a fresh database of the throwaway server.

use super::fixture;
use super::pg::{TestDb, fresh_db};

/// Which Greenlight to build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// v2 as `rake db:schema:load` makes it (bigserial ids, no foreign keys).
    V2Loaded,
    /// v2 as 2.0-era migrations made it (integer ids, bigint references with foreign keys).
    V2Migrated,
    /// v3.
    V3,
}

fn read(name: &str) -> String {
    std::fs::read_to_string(fixture(&format!("greenlight/{name}")))
        .unwrap_or_else(|e| panic!("fixture greenlight/{name}: {e}"))
}

/// The SQL that builds a Greenlight database of this form with the test data.
pub fn sql(form: Form) -> String {
    let files: &[&str] = match form {
        Form::V2Loaded => &["v2_schema.sql", "v2_data.sql"],
        Form::V2Migrated => &["v2_migrated_schema.sql", "v2_data.sql"],
        Form::V3 => &["v3_schema.sql", "v3_data.sql"],
    };
    files.iter().map(|f| read(f)).collect::<Vec<_>>().join("\n")
}

/// A fresh database holding one Greenlight of this form with the test data.
pub fn db(hint: &str, form: Form) -> TestDb {
    let db = fresh_db(hint);
    db.exec(&sql(form));
    db
}
