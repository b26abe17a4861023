//! Which Moodle database serves which origin server, and how its tables are named.

use crate::db::Engine;
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
    /// Connection string: PostgreSQL conninfo or URL, or a `mysql://`/`mariadb://` URL (may
    /// hold a password only when read from a file).
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

/// How a site's tables are named: PostgreSQL `"<schema>"."<prefix><table>"`, MariaDB/MySQL
/// `` `<prefix><table>` `` in the database of the URL (Moodle uses no schema there). Both parts
/// are validated, since table names cannot be bound parameters.
#[derive(Debug, Clone)]
pub struct Tables {
    schema: Option<String>,
    prefix: String,
    engine: Engine,
}

/// The PostgreSQL schema when `--schema` is not given.
pub const DEFAULT_SCHEMA: &str = "public";

impl Tables {
    /// Validates the prefix (`^[a-z0-9_]{0,20}$`, Moodle's `$CFG->prefix`) and the schema
    /// (`^[a-z_][a-z0-9_]{0,62}$`, `$CFG->dboptions['dbschema']`; None: `public`).
    pub fn new(schema: Option<&str>, prefix: &str) -> anyhow::Result<Tables> {
        let ok = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_';
        if prefix.len() > 20 || !prefix.chars().all(ok) {
            bail!("bad --prefix {prefix:?}: lowercase letters, digits and _ only, at most 20");
        }
        if let Some(schema) = schema
            && (schema.is_empty()
                || schema.len() > 63
                || !schema.chars().all(ok)
                || schema.starts_with(|c: char| c.is_ascii_digit()))
        {
            bail!(
                "bad --schema {schema:?}: lowercase letters, digits and _, not starting with a digit"
            );
        }
        Ok(Tables {
            schema: schema.map(String::from),
            prefix: prefix.to_string(),
            engine: Engine::Postgres,
        })
    }

    /// The naming on a database of `engine`: a `--schema` is PostgreSQL's only (on
    /// MariaDB/MySQL the URL's database holds Moodle's tables).
    pub fn on(&self, engine: Engine) -> anyhow::Result<Tables> {
        if engine == Engine::MySql
            && let Some(s) = &self.schema
        {
            bail!(
                "--schema {s} is for PostgreSQL: on MariaDB/MySQL Moodle's tables are in the \
                 database the URL names (mysql://user@host/DATABASE)"
            );
        }
        Ok(Tables {
            engine,
            ..self.clone()
        })
    }

    /// The table's name with its prefix, unquoted (`name("user")` → `mdl_user`).
    pub fn name(&self, table: &str) -> String {
        format!("{}{table}", self.prefix)
    }

    /// The qualified, quoted name of a Moodle table (`t("user")` → `"public"."mdl_user"`, on
    /// MariaDB/MySQL `` `mdl_user` ``).
    pub fn t(&self, table: &str) -> String {
        match self.engine {
            Engine::Postgres => format!(
                "\"{}\".\"{}\"",
                self.schema.as_deref().unwrap_or(DEFAULT_SCHEMA),
                self.name(table)
            ),
            Engine::MySql => format!("`{}`", self.name(table)),
        }
    }

    /// SQL naming the schema (PostgreSQL, a validated literal) or database (MariaDB/MySQL)
    /// of the tables, for `information_schema` queries.
    pub fn schema_sql(&self) -> String {
        match self.engine {
            Engine::Postgres => format!("'{}'", self.schema.as_deref().unwrap_or(DEFAULT_SCHEMA)),
            Engine::MySql => "DATABASE()".to_string(),
        }
    }

    /// Where the tables are, for messages.
    pub fn place(&self) -> String {
        match self.engine {
            Engine::Postgres => format!(
                "schema {}",
                self.schema.as_deref().unwrap_or(DEFAULT_SCHEMA)
            ),
            Engine::MySql => "the URL's database".to_string(),
        }
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
        assert!(Tables::new(Some("public"), "mdl_").is_ok());
        assert!(Tables::new(Some("moodle2"), "").is_ok());
        assert!(Tables::new(None, "mdl\"; drop").is_err());
        assert!(Tables::new(None, "MDL_").is_err());
        assert!(Tables::new(None, "a_very_long_prefix_over_20").is_err());
        assert!(Tables::new(Some("1x"), "mdl_").is_err());
        assert!(Tables::new(Some("pub lic"), "mdl_").is_err());
        let t = Tables::new(Some("s"), "m2_").unwrap();
        assert_eq!(t.t("user"), "\"s\".\"m2_user\"");
        assert_eq!(t.schema_sql(), "'s'");
        assert!(t.on(Engine::MySql).is_err());
        let t = Tables::new(None, "m2_").unwrap();
        assert_eq!(t.t("user"), "\"public\".\"m2_user\"");
        let my = t.on(Engine::MySql).unwrap();
        assert_eq!(my.t("user"), "`m2_user`");
        assert_eq!(my.schema_sql(), "DATABASE()");
        assert_eq!(my.name("user"), "m2_user");
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
