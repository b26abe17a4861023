//! One SQL connection for either engine: queries written once with `$1` placeholders,
//! values and rows of one type, transactions and savepoints, named locks, and errors
//! sorted into the few kinds the tools act on. What differs between PostgreSQL and
//! MariaDB/MySQL (placeholders, upsert, last insert id, locking, quoting) lives here.

use super::Engine;
use crate::error::fatal;
use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use std::collections::HashMap;
use std::fmt;

/// A value sent to or read from either engine.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// Any integer column (MariaDB's tinyint booleans read as 0/1).
    Int(i64),
    /// Any character column.
    Text(String),
    /// A boolean (PostgreSQL `boolean`; sent to MariaDB as 0/1).
    Bool(bool),
    /// A point in time, UTC (`timestamptz`; MariaDB `datetime(6)` holding UTC).
    Time(DateTime<Utc>),
}

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Value {
                Value::Int(v as i64)
            }
        }
    )*};
}
from_int!(i16, i32, i64, u16, u32);

macro_rules! from_with {
    ($($t:ty => $f:expr),* $(,)?) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Value {
                $f(v)
            }
        }
    )*};
}
from_with!(
    bool => Value::Bool,
    String => Value::Text,
    DateTime<Utc> => Value::Time,
    &str => |v: &str| Value::Text(v.to_string()),
    &String => |v: &String| Value::Text(v.clone()),
);
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

/// The parameters of one statement: `params![a, b]`.
#[macro_export]
macro_rules! params {
    ($($v:expr),* $(,)?) => { &[$($crate::db::sql::Value::from($v)),*] as &[$crate::db::sql::Value] };
}

/// A Rust type a column converts to.
pub trait FromValue: Sized {
    /// Converts, or says why not.
    fn from_value(v: &Value) -> std::result::Result<Self, String>;
}

impl FromValue for i64 {
    fn from_value(v: &Value) -> std::result::Result<Self, String> {
        match v {
            Value::Int(i) => Ok(*i),
            Value::Bool(b) => Ok(*b as i64),
            Value::Text(s) => s
                .trim()
                .parse()
                .map_err(|_| format!("{s:?} is not a number")),
            other => Err(format!("{other:?} is not a number")),
        }
    }
}
impl FromValue for i32 {
    fn from_value(v: &Value) -> std::result::Result<Self, String> {
        let i = i64::from_value(v)?;
        i32::try_from(i).map_err(|_| format!("{i} is out of range"))
    }
}
impl FromValue for bool {
    fn from_value(v: &Value) -> std::result::Result<Self, String> {
        match v {
            Value::Bool(b) => Ok(*b),
            Value::Int(i) => Ok(*i != 0),
            Value::Text(s) if s == "0" || s == "1" => Ok(s == "1"),
            other => Err(format!("{other:?} is not a boolean")),
        }
    }
}
impl FromValue for String {
    fn from_value(v: &Value) -> std::result::Result<Self, String> {
        match v {
            Value::Text(s) => Ok(s.clone()),
            Value::Int(i) => Ok(i.to_string()),
            other => Err(format!("{other:?} is not text")),
        }
    }
}
impl FromValue for DateTime<Utc> {
    fn from_value(v: &Value) -> std::result::Result<Self, String> {
        match v {
            Value::Time(t) => Ok(*t),
            other => Err(format!("{other:?} is not a date")),
        }
    }
}
impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: &Value) -> std::result::Result<Self, String> {
        match v {
            Value::Null => Ok(None),
            v => T::from_value(v).map(Some),
        }
    }
}

/// One row of a result, its columns by position.
#[derive(Debug, Clone, PartialEq)]
pub struct Row(pub Vec<Value>);

impl Row {
    /// Column `i` as `T`; panics when the query and the code disagree on its type (a
    /// programming error, like `postgres::Row::get`).
    pub fn get<T: FromValue>(&self, i: usize) -> T {
        match self.try_get(i) {
            Ok(v) => v,
            Err(e) => panic!("column {i}: {e}"),
        }
    }

    /// Column `i` as `T`, or why not.
    pub fn try_get<T: FromValue>(&self, i: usize) -> std::result::Result<T, String> {
        let v = self.0.get(i).ok_or_else(|| format!("no column {i}"))?;
        T::from_value(v)
    }
}

/// What a database error means for the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The connection is gone or the server is shutting down: every later query fails.
    Lost,
    /// A unique constraint refused the row (someone else made it first).
    Unique,
    /// A lock was not granted in time, or a deadlock was broken by aborting us.
    LockTimeout,
    /// A value is longer than its column.
    TooLong,
    /// A value the database cannot store (a NUL character, invalid text).
    BadValue,
    /// The account lacks a privilege.
    Denied,
    /// The transaction or the server is read-only.
    ReadOnly,
    /// Anything else.
    Other,
}

/// A database error with its kind and the server's words (and code).
#[derive(Debug)]
pub struct Error {
    /// What it means for the run.
    pub kind: ErrorKind,
    /// The server's or driver's message, with its code.
    pub text: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for Error {}

impl Error {
    fn of_pg(e: &postgres::Error) -> Error {
        use postgres::error::SqlState as S;
        const KINDS: &[(S, ErrorKind)] = &[
            (S::UNIQUE_VIOLATION, ErrorKind::Unique),
            (S::LOCK_NOT_AVAILABLE, ErrorKind::LockTimeout),
            (S::T_R_DEADLOCK_DETECTED, ErrorKind::LockTimeout),
            (S::QUERY_CANCELED, ErrorKind::LockTimeout),
            (S::STRING_DATA_RIGHT_TRUNCATION, ErrorKind::TooLong),
            (S::CHARACTER_NOT_IN_REPERTOIRE, ErrorKind::BadValue),
            (S::UNTRANSLATABLE_CHARACTER, ErrorKind::BadValue),
            (S::INVALID_TEXT_REPRESENTATION, ErrorKind::BadValue),
            (S::INSUFFICIENT_PRIVILEGE, ErrorKind::Denied),
            (S::READ_ONLY_SQL_TRANSACTION, ErrorKind::ReadOnly),
        ];
        let kind = if crate::error::db_lost(e) {
            ErrorKind::Lost
        } else {
            KINDS
                .iter()
                .find(|(s, _)| Some(s) == e.code())
                .map_or(ErrorKind::Other, |(_, k)| *k)
        };
        Error {
            kind,
            text: super::pg::error_text(e),
        }
    }

    fn of_mysql(e: &mysql::Error) -> Error {
        let kind = match e {
            mysql::Error::IoError(_) | mysql::Error::CodecError(_) => ErrorKind::Lost,
            mysql::Error::DriverError(d) => match d {
                mysql::DriverError::ConnectTimeout
                | mysql::DriverError::CouldNotConnect(_)
                | mysql::DriverError::PacketOutOfSync
                | mysql::DriverError::UnexpectedPacket
                | mysql::DriverError::Timeout => ErrorKind::Lost,
                _ => ErrorKind::Other,
            },
            mysql::Error::MySqlError(m) => match m.code {
                // server gone, lost during query, shutdown in progress, connection killed
                2006 | 2013 | 1053 | 1927 | 1152 | 1159 | 1161 => ErrorKind::Lost,
                1062 | 1586 => ErrorKind::Unique,
                1205 | 1213 => ErrorKind::LockTimeout,
                1406 => ErrorKind::TooLong,
                1366 | 1300 => ErrorKind::BadValue,
                1044 | 1045 | 1142 | 1143 | 1227 => ErrorKind::Denied,
                1290 | 1792 | 1836 => ErrorKind::ReadOnly,
                _ => ErrorKind::Other,
            },
            _ => ErrorKind::Other,
        };
        Error {
            kind,
            text: super::mysql::error_text(e),
        }
    }

    /// This error as the run should see it: a lost connection dooms every later record
    /// (fatal, exit 2, "lost the WHAT database"); anything else fails one record.
    pub fn for_record(self, what: &str) -> anyhow::Error {
        if self.kind == ErrorKind::Lost {
            fatal(anyhow::Error::new(self).context(format!("lost the {what} database")))
        } else {
            anyhow::Error::new(self)
        }
    }
}

/// Result of one database call.
pub type Result<T> = std::result::Result<T, Error>;

enum Inner {
    Pg {
        client: Box<postgres::Client>,
        prepared: HashMap<String, postgres::Statement>,
    },
    My {
        conn: Box<mysql::Conn>,
        translated: HashMap<String, (String, Vec<usize>)>,
    },
}

/// Prepared statements kept per connection before the cache is emptied.
const CACHE: usize = 512;

/// A connection to either engine.
pub struct Db {
    inner: Inner,
}

impl Db {
    /// Connects as the connection string says (engine, TLS, password sources).
    pub fn connect(conninfo: &str) -> anyhow::Result<Db> {
        Ok(match Engine::of(conninfo) {
            Engine::Postgres => Db::from_pg(super::pg::connect(conninfo)?),
            Engine::MySql => Db {
                inner: Inner::My {
                    conn: Box::new(super::mysql::connect(conninfo)?),
                    translated: HashMap::new(),
                },
            },
        })
    }

    /// Wraps an open PostgreSQL connection.
    pub fn from_pg(client: postgres::Client) -> Db {
        Db {
            inner: Inner::Pg {
                client: Box::new(client),
                prepared: HashMap::new(),
            },
        }
    }

    /// Which engine this is.
    pub fn engine(&self) -> Engine {
        match self.inner {
            Inner::Pg { .. } => Engine::Postgres,
            Inner::My { .. } => Engine::MySql,
        }
    }

    /// The PostgreSQL client, for code that is PostgreSQL-only by nature.
    pub fn pg(&mut self) -> Option<&mut postgres::Client> {
        match &mut self.inner {
            Inner::Pg { client, .. } => Some(&mut **client),
            Inner::My { .. } => None,
        }
    }

    /// Runs a query; `$1`… are the parameters (a `$n` may appear more than once).
    pub fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        self.run(sql, params).map(|(rows, _)| rows)
    }

    /// Runs one statement: its rows and the number of rows it changed (MariaDB: matched,
    /// as the connection asks for found rows, like PostgreSQL).
    fn run(&mut self, sql: &str, params: &[Value]) -> Result<(Vec<Row>, u64)> {
        match &mut self.inner {
            Inner::Pg { client, prepared } => {
                let stmt = pg_statement(client, prepared, sql)?;
                let refs: Vec<&(dyn ToSql + Sync)> =
                    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
                if stmt.columns().is_empty() {
                    let n = client.execute(&stmt, &refs).map_err(|e| Error::of_pg(&e))?;
                    return Ok((Vec::new(), n));
                }
                let rows = client.query(&stmt, &refs).map_err(|e| Error::of_pg(&e))?;
                let n = rows.len() as u64;
                Ok((rows.iter().map(pg_row).collect::<Result<_>>()?, n))
            }
            Inner::My { conn, translated } => {
                let (text, order) = my_statement(translated, sql);
                let values: Vec<mysql::Value> =
                    order.iter().map(|&i| my_value(params.get(i))).collect();
                let args = if values.is_empty() {
                    mysql::Params::Empty
                } else {
                    mysql::Params::Positional(values)
                };
                use mysql::prelude::Queryable;
                let mut result = conn
                    .exec_iter(text.as_str(), args)
                    .map_err(|e| Error::of_mysql(&e))?;
                let mut rows = Vec::new();
                for r in result.by_ref() {
                    let r = r.map_err(|e| Error::of_mysql(&e))?;
                    rows.push(Row(r.unwrap().into_iter().map(from_my).collect()));
                }
                drop(result);
                Ok((rows, conn.affected_rows()))
            }
        }
    }

    /// Runs a query that returns at most one row.
    pub fn query_opt(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// Runs a query that returns exactly one row.
    pub fn query_one(&mut self, sql: &str, params: &[Value]) -> Result<Row> {
        self.query_opt(sql, params)?.ok_or_else(|| Error {
            kind: ErrorKind::Other,
            text: "the query returned no row".to_string(),
        })
    }

    /// Runs a statement; returns the rows it changed (MariaDB: the rows it matched, as
    /// the connection asks for found rows).
    pub fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        self.run(sql, params).map(|(_, n)| n)
    }

    /// Runs an `INSERT` into a table with an `id` key and returns the new row's id.
    pub fn insert(&mut self, sql: &str, params: &[Value]) -> Result<i64> {
        match self.engine() {
            Engine::Postgres => Ok(self
                .query_one(&format!("{sql} RETURNING id"), params)?
                .get(0)),
            Engine::MySql => {
                self.execute(sql, params)?;
                let Inner::My { conn, .. } = &self.inner else {
                    unreachable!()
                };
                Ok(conn.last_insert_id() as i64)
            }
        }
    }

    /// Runs statements without parameters (`SET …`, several separated by `;`).
    pub fn batch(&mut self, sql: &str) -> Result<()> {
        match &mut self.inner {
            Inner::Pg { client, .. } => client.batch_execute(sql).map_err(|e| Error::of_pg(&e)),
            Inner::My { conn, .. } => {
                use mysql::prelude::Queryable;
                conn.query_drop(sql).map_err(|e| Error::of_mysql(&e))
            }
        }
    }

    /// Starts a read-write transaction.
    pub fn begin(&mut self) -> Result<()> {
        self.batch(match self.engine() {
            Engine::Postgres => "BEGIN",
            Engine::MySql => "START TRANSACTION",
        })
    }

    /// Starts a read-only transaction that sees one snapshot of the database.
    pub fn begin_snapshot(&mut self) -> Result<()> {
        self.batch(match self.engine() {
            Engine::Postgres => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
            Engine::MySql => {
                "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ; START TRANSACTION READ ONLY, WITH CONSISTENT SNAPSHOT"
            }
        })
    }

    /// Commits the transaction.
    pub fn commit(&mut self) -> Result<()> {
        self.batch("COMMIT")
    }

    /// Rolls the transaction back.
    pub fn rollback(&mut self) -> Result<()> {
        self.batch("ROLLBACK")
    }

    /// Marks a point the transaction can return to ([`Db::rollback_to`]).
    pub fn savepoint(&mut self, name: &str) -> Result<()> {
        self.batch(&format!("SAVEPOINT {name}"))
    }

    /// Undoes what was done since the savepoint; the transaction goes on.
    pub fn rollback_to(&mut self, name: &str) -> Result<()> {
        self.batch(&format!("ROLLBACK TO SAVEPOINT {name}"))
    }

    /// Forgets a savepoint (its work stays).
    pub fn release(&mut self, name: &str) -> Result<()> {
        self.batch(&format!("RELEASE SAVEPOINT {name}"))
    }

    /// Runs `f` in one transaction: committed when it returns Ok, rolled back otherwise.
    pub fn transaction<T, E: From<Error>>(
        &mut self,
        f: impl FnOnce(&mut Db) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        self.begin()?;
        match f(self) {
            Ok(v) => {
                self.commit()?;
                Ok(v)
            }
            Err(e) => {
                let _ = self.rollback();
                Err(e)
            }
        }
    }

    /// Takes a lock named `key` for this session, waiting for another session that holds
    /// it (PostgreSQL advisory lock; MariaDB `GET_LOCK`). `class` keeps tools apart.
    pub fn lock(&mut self, class: i32, key: &str) -> Result<()> {
        match self.engine() {
            Engine::Postgres => self
                .execute(
                    "SELECT pg_advisory_lock($1, hashtext($2))",
                    params![class, key],
                )
                .map(|_| ()),
            Engine::MySql => {
                let got: Option<i64> = self
                    .query_one(
                        "SELECT GET_LOCK($1, 31536000)",
                        params![lock_name(class, key)],
                    )?
                    .get(0);
                if got == Some(1) {
                    Ok(())
                } else {
                    Err(Error {
                        kind: ErrorKind::LockTimeout,
                        text: format!("GET_LOCK for {key:?} was not granted"),
                    })
                }
            }
        }
    }

    /// Releases a lock taken with [`Db::lock`].
    pub fn unlock(&mut self, class: i32, key: &str) -> Result<()> {
        match self.engine() {
            Engine::Postgres => self
                .execute(
                    "SELECT pg_advisory_unlock($1, hashtext($2))",
                    params![class, key],
                )
                .map(|_| ()),
            Engine::MySql => self
                .execute("SELECT RELEASE_LOCK($1)", params![lock_name(class, key)])
                .map(|_| ()),
        }
    }

    /// Whether a table (or view) exists in the connection's schema or database.
    pub fn table_exists(&mut self, table: &str) -> Result<bool> {
        let n: i64 = self
            .query_one(
                &format!(
                    "SELECT COUNT(*) FROM information_schema.tables \
                     WHERE table_schema = {} AND table_name = $1",
                    self.current_schema()
                ),
                params![table],
            )?
            .get(0);
        Ok(n > 0)
    }

    /// The declared length of a character column (characters), if it has one.
    pub fn column_len(&mut self, table: &str, column: &str) -> Result<Option<i64>> {
        let row = self.query_opt(
            &format!(
                "SELECT character_maximum_length FROM information_schema.columns \
                 WHERE table_schema = {} AND table_name = $1 AND column_name = $2",
                self.current_schema()
            ),
            params![table, column],
        )?;
        Ok(row.and_then(|r| r.get(0)))
    }

    /// The SQL expression naming the schema (PostgreSQL) or database (MariaDB) in use.
    pub fn current_schema(&self) -> &'static str {
        match self.engine() {
            Engine::Postgres => "current_schema()",
            Engine::MySql => "DATABASE()",
        }
    }

    /// An identifier quoted for this engine.
    pub fn quote(&self, ident: &str) -> String {
        match self.engine() {
            Engine::Postgres => format!("\"{}\"", ident.replace('"', "\"\"")),
            Engine::MySql => format!("`{}`", ident.replace('`', "``")),
        }
    }

    /// Runs `INSERT …` unless a row with the same `key` columns exists; says whether it
    /// inserted. (MariaDB: a refused duplicate does not abort the transaction there, so a
    /// plain INSERT whose duplicate-key error is caught; `INSERT IGNORE` would also turn a
    /// too-long value into a silent truncation.)
    pub fn insert_or_skip(&mut self, insert: &str, key: &[&str], params: &[Value]) -> Result<bool> {
        match self.engine() {
            Engine::Postgres => Ok(self.execute(
                &format!("{insert} ON CONFLICT ({}) DO NOTHING", key.join(", ")),
                params,
            )? > 0),
            Engine::MySql => match self.execute(insert, params) {
                Ok(n) => Ok(n > 0),
                Err(e) if e.kind == ErrorKind::Unique => Ok(false),
                Err(e) => Err(e),
            },
        }
    }

    /// Placeholders `$first, …` for `n` values, for `IN (…)` lists.
    pub fn list(first: usize, n: usize) -> String {
        (first..first + n)
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A `GET_LOCK` name: at most 64 characters, so the key is hashed.
fn lock_name(class: i32, key: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(key.as_bytes());
    format!("bbbmig:{class}:{}", &hex::encode(digest)[..40])
}

fn pg_statement(
    client: &mut postgres::Client,
    prepared: &mut HashMap<String, postgres::Statement>,
    sql: &str,
) -> Result<postgres::Statement> {
    if let Some(s) = prepared.get(sql) {
        return Ok(s.clone());
    }
    let s = client.prepare(sql).map_err(|e| Error::of_pg(&e))?;
    if prepared.len() >= CACHE {
        prepared.clear();
    }
    prepared.insert(sql.to_string(), s.clone());
    Ok(s)
}

fn my_statement<'a>(
    translated: &'a mut HashMap<String, (String, Vec<usize>)>,
    sql: &str,
) -> &'a (String, Vec<usize>) {
    if translated.len() >= CACHE && !translated.contains_key(sql) {
        translated.clear();
    }
    translated
        .entry(sql.to_string())
        .or_insert_with(|| placeholders(sql))
}

/// `$n` placeholders as MySQL's `?`, and which parameter (0-based) each `?` takes. Quoted
/// strings and identifiers are left alone.
fn placeholders(sql: &str) -> (String, Vec<usize>) {
    let mut out = String::with_capacity(sql.len());
    let mut order = Vec::new();
    let mut chars = sql.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                out.push(c);
                if c == q {
                    quote = None;
                }
            }
            None if c == '\'' || c == '"' || c == '`' => {
                quote = Some(c);
                out.push(c);
            }
            None if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) => {
                let mut n = 0usize;
                while let Some(d) = chars.peek().and_then(|d| d.to_digit(10)) {
                    n = n * 10 + d as usize;
                    chars.next();
                }
                out.push('?');
                order.push(n - 1);
            }
            None => out.push(c),
        }
    }
    (out, order)
}

fn my_value(v: Option<&Value>) -> mysql::Value {
    match v {
        None | Some(Value::Null) => mysql::Value::NULL,
        Some(Value::Int(i)) => mysql::Value::Int(*i),
        Some(Value::Bool(b)) => mysql::Value::Int(*b as i64),
        Some(Value::Text(s)) => mysql::Value::Bytes(s.as_bytes().to_vec()),
        Some(Value::Time(t)) => mysql::Value::Date(
            t.year() as u16,
            t.month() as u8,
            t.day() as u8,
            t.hour() as u8,
            t.minute() as u8,
            t.second() as u8,
            t.timestamp_subsec_micros(),
        ),
    }
}

fn from_my(v: mysql::Value) -> Value {
    match v {
        mysql::Value::NULL => Value::Null,
        mysql::Value::Int(i) => Value::Int(i),
        mysql::Value::UInt(u) => Value::Int(u as i64),
        mysql::Value::Bytes(b) => Value::Text(
            String::from_utf8(b).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into()),
        ),
        mysql::Value::Float(f) => Value::Text(f.to_string()),
        mysql::Value::Double(f) => Value::Text(f.to_string()),
        mysql::Value::Date(y, mo, d, h, mi, s, us) => {
            NaiveDate::from_ymd_opt(y as i32, mo as u32, d as u32)
                .and_then(|day| day.and_hms_micro_opt(h as u32, mi as u32, s as u32, us))
                .map_or(Value::Null, |t| Value::Time(t.and_utc()))
        }
        mysql::Value::Time(..) => Value::Null,
    }
}

fn pg_row(r: &postgres::Row) -> Result<Row> {
    let mut out = Vec::with_capacity(r.len());
    for (i, col) in r.columns().iter().enumerate() {
        let bad = |e: postgres::Error| Error {
            kind: ErrorKind::Other,
            text: format!("column {}: {e}", col.name()),
        };
        let ty = col.type_();
        let v = if *ty == Type::VOID {
            Value::Null
        } else if *ty == Type::BOOL {
            r.try_get::<_, Option<bool>>(i).map_err(bad)?.into()
        } else if *ty == Type::INT2 {
            r.try_get::<_, Option<i16>>(i).map_err(bad)?.into()
        } else if *ty == Type::INT4 {
            r.try_get::<_, Option<i32>>(i).map_err(bad)?.into()
        } else if *ty == Type::INT8 {
            r.try_get::<_, Option<i64>>(i).map_err(bad)?.into()
        } else if *ty == Type::OID {
            r.try_get::<_, Option<u32>>(i).map_err(bad)?.into()
        } else if *ty == Type::TIMESTAMPTZ {
            r.try_get::<_, Option<DateTime<Utc>>>(i)
                .map_err(bad)?
                .into()
        } else if *ty == Type::TIMESTAMP {
            r.try_get::<_, Option<chrono::NaiveDateTime>>(i)
                .map_err(bad)?
                .map(|t| t.and_utc())
                .into()
        } else {
            r.try_get::<_, Option<String>>(i).map_err(bad)?.into()
        };
        out.push(v);
    }
    Ok(Row(out))
}

fn int_as(ty: &Type, i: i64) -> std::result::Result<Value, String> {
    let fits = if *ty == Type::INT2 {
        i16::try_from(i).is_ok()
    } else if *ty == Type::INT4 {
        i32::try_from(i).is_ok()
    } else {
        true
    };
    if fits {
        Ok(Value::Int(i))
    } else {
        Err(format!("{i} does not fit in {ty}"))
    }
}

impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) => {
                int_as(ty, *i)?;
                if *ty == Type::INT2 {
                    (*i as i16).to_sql(ty, out)
                } else if *ty == Type::INT4 {
                    (*i as i32).to_sql(ty, out)
                } else if *ty == Type::INT8 {
                    i.to_sql(ty, out)
                } else if *ty == Type::OID {
                    u32::try_from(*i)?.to_sql(ty, out)
                } else if *ty == Type::BOOL {
                    (*i != 0).to_sql(ty, out)
                } else if <&str as ToSql>::accepts(ty) {
                    i.to_string().as_str().to_sql(ty, out)
                } else {
                    Err(format!("cannot send an integer as {ty}").into())
                }
            }
            Value::Bool(b) => {
                if *ty == Type::BOOL {
                    b.to_sql(ty, out)
                } else {
                    Value::Int(*b as i64).to_sql(ty, out)
                }
            }
            Value::Text(s) => {
                if <&str as ToSql>::accepts(ty) {
                    s.as_str().to_sql(ty, out)
                } else {
                    Err(format!("cannot send text as {ty}").into())
                }
            }
            Value::Time(t) => {
                if *ty == Type::TIMESTAMPTZ {
                    t.to_sql(ty, out)
                } else if *ty == Type::TIMESTAMP {
                    t.naive_utc().to_sql(ty, out)
                } else if <&str as ToSql>::accepts(ty) {
                    t.to_rfc3339().as_str().to_sql(ty, out)
                } else {
                    Err(format!("cannot send a date as {ty}").into())
                }
            }
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_follow_occurrence_and_skip_quotes() {
        let (s, o) = placeholders("SELECT $2, '$1', \"a$1\", $1, $2, $10 FROM t WHERE x = `$3`");
        assert_eq!(s, "SELECT ?, '$1', \"a$1\", ?, ?, ? FROM t WHERE x = `$3`");
        assert_eq!(o, vec![1, 0, 1, 9]);
        let (s, o) = placeholders("UPDATE t SET a = 'it''s $1' WHERE id = $1");
        assert_eq!(s, "UPDATE t SET a = 'it''s $1' WHERE id = ?");
        assert_eq!(o, vec![0]);
    }

    #[test]
    fn conversions() {
        let r = Row(vec![
            Value::Int(1),
            Value::Text("7".into()),
            Value::Null,
            Value::Bool(true),
        ]);
        assert!(r.get::<bool>(0));
        assert_eq!(r.get::<i64>(1), 7);
        assert_eq!(r.get::<Option<String>>(2), None);
        assert_eq!(r.get::<i32>(3), 1);
        assert!(r.try_get::<String>(3).is_err());
        assert!(r.try_get::<i64>(9).is_err());
        assert_eq!(Value::from(None::<i32>), Value::Null);
        assert_eq!(Db::list(3, 3), "$3, $4, $5");
        assert_eq!(lock_name(7, "import x").len(), 49);
    }
}
