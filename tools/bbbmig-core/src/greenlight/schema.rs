//! Greenlight v2 or v3, told from the tables of the database (never from the metadata: a
//! v2-era recording of a server upgraded in place lives in the v3 database).

use anyhow::bail;
use postgres::Row;
use std::collections::BTreeSet;

/// What one Greenlight database holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schema {
    /// Greenlight 2.x: `rooms.bbb_id`, soft deletes, roles.
    V2(Roles),
    /// Greenlight 3.x: `rooms.meeting_id`, `users.status`; with or without `recordings`.
    V3 {
        /// Whether the `recordings` table is there (cross-check and fallback).
        recordings: bool,
    },
}

/// Where a v2 user's role is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Roles {
    /// `users.role_id` → `roles` (Greenlight 2.6+).
    Column,
    /// `users_roles(user_id, role_id)` → `roles` (rolify, before 2.6).
    JoinTable,
    /// Neither: nobody can be told banned.
    Unknown,
}

impl Schema {
    /// 2 or 3.
    pub fn version(self) -> u8 {
        match self {
            Schema::V2(_) => 2,
            Schema::V3 { .. } => 3,
        }
    }

    /// For `-v`: the version and where its facts are read.
    pub fn describe(self) -> &'static str {
        match self {
            Schema::V2(Roles::Column) => "Greenlight v2, roles in users.role_id",
            Schema::V2(Roles::JoinTable) => "Greenlight v2, roles in users_roles (before 2.6)",
            Schema::V2(Roles::Unknown) => "Greenlight v2, no roles",
            Schema::V3 { recordings: true } => "Greenlight v3, with its recordings table",
            Schema::V3 { recordings: false } => "Greenlight v3, without a recordings table",
        }
    }
}

/// The columns of the tables Greenlight's owners live in (current schema), and a trace of
/// Moodle's tables to name a wrong database clearly: rows `(table, column)`.
pub const PROBE: &str = "SELECT table_name::text, column_name::text FROM information_schema.columns
  WHERE table_schema = current_schema()
    AND table_name IN ('rooms', 'users', 'shared_accesses', 'roles', 'users_roles', 'recordings')
 UNION ALL
 (SELECT 'moodle', table_schema || '.' || table_name FROM information_schema.tables
   WHERE table_name LIKE '%bigbluebuttonbn' LIMIT 1)";

/// Decides the schema from the [`PROBE`] rows.
pub fn detect(rows: &[Row]) -> anyhow::Result<Schema> {
    let cols: BTreeSet<(String, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    let has = |t: &str, c: &str| cols.contains(&(t.to_string(), c.to_string()));
    let need = |t: &str, list: &[&str]| -> anyhow::Result<()> {
        for c in list {
            if !has(t, c) {
                bail!("not a Greenlight database: table {t} has no column {c}");
            }
        }
        Ok(())
    };
    if has("rooms", "bbb_id") {
        need("rooms", &["id", "user_id", "name", "uid", "deleted"])?;
        need("users", &["id", "name", "username", "email", "deleted"])?;
        need("shared_accesses", &["id", "room_id", "user_id"])?;
        let roles = if has("users", "role_id") && has("roles", "name") {
            Roles::Column
        } else if has("users_roles", "role_id") && has("roles", "name") {
            Roles::JoinTable
        } else {
            Roles::Unknown
        };
        return Ok(Schema::V2(roles));
    }
    if has("rooms", "meeting_id") {
        need("rooms", &["id", "user_id", "name", "friendly_id"])?;
        need("users", &["id", "name", "email", "status"])?;
        need("shared_accesses", &["room_id", "user_id", "created_at"])?;
        return Ok(Schema::V3 {
            recordings: has("recordings", "record_id") && has("recordings", "room_id"),
        });
    }
    if let Some((_, table)) = cols.iter().find(|(t, _)| t == "moodle") {
        bail!(
            "this is a Moodle database (it has {table}), not Greenlight's: give it to moodle-moderators, \
             and here the database Greenlight's config names (DB_NAME, usually greenlight_production)"
        );
    }
    bail!(
        "not a Greenlight database: no table rooms with bbb_id (v2) or meeting_id (v3) in the current schema"
    )
}
