//! Which Moodle database serves which origin server, and how its tables are named.

use crate::pg;
use anyhow::{Context, bail};
use std::path::Path;

/// The entry name that serves recordings without `bbb-origin-server-name`.
pub const DEFAULT: &str = "default";

/// One configured Moodle database.
#[derive(Debug, Clone)]
pub struct DbEntry {
    /// The origin server name it serves (`bbb-origin-server-name`), or `default`.
    pub name: String,
    /// libpq connection string (may hold a password only when read from a file).
    pub conninfo: String,
}

/// Parses a `--db NAME=CONNINFO` value; a password in it is refused (argv shows in `ps`).
pub fn parse_db_arg(s: &str) -> anyhow::Result<DbEntry> {
    let (name, conninfo) = crate::db::split_named(s).context("--db")?;
    pg::refuse_password_in_argv(&conninfo).context("--db")?;
    Ok(DbEntry { name, conninfo })
}

/// Every database of `--db` values and `--db-file` files; a name given twice is an error.
pub fn collect(
    db_args: &[String],
    db_files: &[std::path::PathBuf],
) -> anyhow::Result<Vec<DbEntry>> {
    collect_for("Moodle", db_args, db_files)
}

/// [`collect`] for any kind of database (`kind` names it in the message when none is given).
pub fn collect_for(
    kind: &str,
    db_args: &[String],
    db_files: &[std::path::PathBuf],
) -> anyhow::Result<Vec<DbEntry>> {
    let mut out: Vec<DbEntry> = Vec::new();
    for a in db_args {
        out.push(parse_db_arg(a)?);
    }
    for f in db_files {
        for (name, conninfo) in pg::read_db_file(f)? {
            out.push(DbEntry { name, conninfo });
        }
    }
    for (i, e) in out.iter().enumerate() {
        if out[..i]
            .iter()
            .any(|o| o.name.eq_ignore_ascii_case(&e.name))
        {
            bail!("database {} is configured twice", e.name);
        }
    }
    if out.is_empty() {
        bail!("no {kind} database: give --db NAME=CONNINFO or --db-file FILE");
    }
    Ok(out)
}

/// How a site's tables are named: `"<schema>"."<prefix><table>"`. Both parts are validated,
/// since table names cannot be bound parameters.
#[derive(Debug, Clone)]
pub struct Tables {
    schema: String,
    prefix: String,
}

impl Tables {
    /// Validates the prefix (`^[a-z0-9_]{0,20}$`, Moodle's `$CFG->prefix`) and the schema
    /// (`^[a-z_][a-z0-9_]{0,62}$`, `$CFG->dboptions['dbschema']`).
    pub fn new(schema: &str, prefix: &str) -> anyhow::Result<Tables> {
        let ok = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_';
        if prefix.len() > 20 || !prefix.chars().all(ok) {
            bail!("bad --prefix {prefix:?}: lowercase letters, digits and _ only, at most 20");
        }
        if schema.is_empty()
            || schema.len() > 63
            || !schema.chars().all(ok)
            || schema.starts_with(|c: char| c.is_ascii_digit())
        {
            bail!(
                "bad --schema {schema:?}: lowercase letters, digits and _, not starting with a digit"
            );
        }
        Ok(Tables {
            schema: schema.to_string(),
            prefix: prefix.to_string(),
        })
    }

    /// The qualified, quoted name of a Moodle table (`t("user")` → `"public"."mdl_user"`).
    pub fn t(&self, table: &str) -> String {
        format!("\"{}\".\"{}{}\"", self.schema, self.prefix, table)
    }
}

/// Reads a text file given on the command line (message templates).
pub fn read_text(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_and_schema_are_validated() {
        assert!(Tables::new("public", "mdl_").is_ok());
        assert!(Tables::new("moodle2", "").is_ok());
        assert!(Tables::new("public", "mdl\"; drop").is_err());
        assert!(Tables::new("public", "MDL_").is_err());
        assert!(Tables::new("public", "a_very_long_prefix_over_20").is_err());
        assert!(Tables::new("1x", "mdl_").is_err());
        assert!(Tables::new("pub lic", "mdl_").is_err());
        assert_eq!(
            Tables::new("s", "m2_").unwrap().t("user"),
            "\"s\".\"m2_user\""
        );
    }

    #[test]
    fn db_args_refuse_passwords() {
        assert!(parse_db_arg("moodle.example.org=host=/tmp dbname=m").is_ok());
        assert!(parse_db_arg("m=host=/tmp password=secret").is_err());
        assert!(parse_db_arg("m=postgresql://u:secret@h/db").is_err());
        assert!(parse_db_arg("nothing").is_err());
        assert!(collect(&["a=dbname=x".into(), "A=dbname=y".into()], &[]).is_err());
    }
}
