//! Moodle databases for tests: the fixture schemas and data of tests/fixtures/moodle loaded
//! into a fresh database of the throwaway server, with any table prefix and schema.

use super::fixture;
use super::pg::{TestDb, fresh_db};

/// Which Moodle to build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// Moodle 4.x: the spec's schema and sample data plus bbbmig's extra rows.
    Moodle4,
    /// Moodle 3.x with the 2.x plugin: no recordings table.
    Moodle3,
}

fn read(name: &str) -> String {
    std::fs::read_to_string(fixture(&format!("moodle/{name}")))
        .unwrap_or_else(|e| panic!("fixture moodle/{name}: {e}"))
}

/// The SQL that builds a site: files of the flavor with `mdl_` replaced by `prefix`.
pub fn site_sql(flavor: Flavor, prefix: &str) -> String {
    let files: &[&str] = match flavor {
        Flavor::Moodle4 => &[
            "moodle4_schema.sql",
            "moodle4_sample_data.sql",
            "moodle4_extra.sql",
        ],
        Flavor::Moodle3 => &["moodle3_schema.sql", "moodle3_data.sql"],
    };
    files
        .iter()
        .map(|f| read(f).replace("mdl_", prefix))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A fresh database holding one Moodle site, its tables named `<schema>.<prefix>…`.
pub fn site(hint: &str, flavor: Flavor, schema: &str, prefix: &str) -> TestDb {
    let db = fresh_db(hint);
    let mut sql = String::new();
    if schema != "public" {
        sql.push_str(&format!(
            "CREATE SCHEMA {schema}; SET search_path = {schema};\n"
        ));
    }
    sql.push_str(&site_sql(flavor, prefix));
    db.exec(&sql);
    db
}

/// The usual Moodle 4 site (`public.mdl_…`).
pub fn moodle4(hint: &str) -> TestDb {
    site(hint, Flavor::Moodle4, "public", "mdl_")
}
