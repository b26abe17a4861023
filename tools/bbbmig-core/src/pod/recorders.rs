//! `pod-claim --list-recorders`: the Pod-side settings the tools need, read only: sites
//! (`--site`, `--pod-url`), recorders and their folders (`--recorder`), and the accounts
//! usable as pod-import's `--admin`.

use crate::db::sql::Db;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

/// The listing, as text for people (one line per site, recorder and administrator).
pub fn list(db: &mut Db, recorder_root: &Path) -> anyhow::Result<String> {
    let mut t = String::new();
    writeln!(
        t,
        "# Sites (django_site): --site ID; --pod-url is the address users open"
    )?;
    for r in db.query("SELECT id, domain, name FROM django_site ORDER BY id", &[])? {
        let (id, domain, name): (i64, String, String) = (r.get(0), r.get(1), r.get(2));
        writeln!(
            t,
            "site {id}  domain {domain:?}  name {name:?}  --pod-url https://{}",
            domain.trim_end_matches('/')
        )?;
    }

    let mut sites: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for r in db.query(
        "SELECT recorder_id, site_id FROM recorder_recorder_sites ORDER BY recorder_id, site_id",
        &[],
    )? {
        sites
            .entry(r.get(0))
            .or_default()
            .push(r.get::<i64>(1).to_string());
    }
    writeln!(
        t,
        "\n# Recorders (recorder_recorder): pod-claim --recorder ID; folder = --recorder-root {} + directory",
        recorder_root.display()
    )?;
    for r in db.query(
        "SELECT r.id, r.name, r.recording_type, r.directory, r.user_id, u.username \
         FROM recorder_recorder r LEFT JOIN auth_user u ON u.id = r.user_id ORDER BY r.id",
        &[],
    )? {
        let id: i64 = r.get(0);
        let (name, kind, dir): (String, String, String) = (r.get(1), r.get(2), r.get(3));
        let manager = match (r.get::<Option<i64>>(4), r.get::<Option<String>>(5)) {
            (Some(uid), Some(u)) => format!("{u:?} (id {uid})"),
            (Some(uid), None) => format!("id {uid}"),
            _ => "none".to_string(),
        };
        let on = sites.get(&id).map_or("none".to_string(), |s| s.join(","));
        writeln!(
            t,
            "recorder {id}  name {name:?}  type {kind:?}  manager {manager}  sites {on}  directory {dir:?}"
        )?;
        let folder = recorder_root.join(&dir);
        writeln!(
            t,
            "  folder {}: {}",
            folder.display(),
            folder_state(&folder)
        )?;
        if r.get::<Option<i64>>(4).is_some() {
            writeln!(
                t,
                "  not for pod-claim: Pod hands every file of a recorder with a manager to that manager"
            )?;
        }
        if on == "none" {
            writeln!(t, "  not for pod-claim: linked to no site")?;
        }
    }

    writeln!(
        t,
        "\n# Administrators (active staff or superuser accounts): pod-import --admin ID"
    )?;
    for r in db.query(
        "SELECT id, username, email, is_staff, is_superuser FROM auth_user \
         WHERE is_active AND (is_staff OR is_superuser) ORDER BY id",
        &[],
    )? {
        let (id, user, email): (i64, String, String) = (r.get(0), r.get(1), r.get(2));
        let (staff, superuser): (bool, bool) = (r.get(3), r.get(4));
        let roles = match (superuser, staff) {
            (true, true) => "superuser, staff",
            (true, false) => "superuser, not staff (Pod shows external recordings to staff only)",
            _ => "staff",
        };
        writeln!(t, "admin {id}  username {user:?}  email {email:?}  {roles}")?;
    }
    Ok(t)
}

/// Owner, group and mode of a recorder folder on this host, or that it is not here.
fn folder_state(folder: &Path) -> String {
    use std::os::unix::fs::MetadataExt;
    match std::fs::metadata(folder) {
        Ok(m) if m.is_dir() => format!(
            "owner {} group {} mode {:04o}",
            name_of("/etc/passwd", m.uid()),
            name_of("/etc/group", m.gid()),
            m.mode() & 0o7777
        ),
        Ok(_) => "not a folder".to_string(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            "not on this host (create it, or give --recorder-root)".to_string()
        }
        Err(e) => e.to_string(),
    }
}

/// The name of a user or group id from /etc/passwd or /etc/group, else the number.
fn name_of(file: &str, id: u32) -> String {
    std::fs::read_to_string(file)
        .ok()
        .and_then(|text| {
            text.lines().find_map(|l| {
                let mut f = l.split(':');
                let name = f.next()?;
                (f.nth(1)?.parse::<u32>().ok()? == id).then(|| name.to_string())
            })
        })
        .unwrap_or_else(|| id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_is_named() {
        assert_eq!(name_of("/etc/passwd", 0), "root");
        assert_eq!(name_of("/nonexistent", 7), "7");
    }
}
