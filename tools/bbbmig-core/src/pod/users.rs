//! Pod users: finding them (by username, optionally by email) and creating the missing
//! ones with every row Pod's own code makes for a new user (auth_user, its Owner with
//! the hashkey computed from SECRET_KEY, the Owner's site, the podfile "home" folder
//! and the "Favorites" playlist), in the caller's transaction, parents first (MariaDB
//! checks foreign keys at once). Usernames are matched the way the database compares
//! them (MariaDB's `_ci` collations: `Alice` is `alice`, `élodie` is `elodie`).

use crate::db::Engine;
use crate::db::sql::{self, Db, Row};
use crate::params;
use crate::secret::Secret;
use anyhow::bail;
use chrono::Utc;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// A person to find or create in Pod (a moderator of the record).
#[derive(Debug, Clone, Deserialize)]
pub struct Person {
    /// Login name; must equal the Pod/CAS/LDAP username.
    pub username: String,
    /// E-mail address (may be empty).
    #[serde(default)]
    pub email: Option<String>,
    /// First name.
    #[serde(default)]
    pub firstname: Option<String>,
    /// Last name.
    #[serde(default)]
    pub lastname: Option<String>,
}

/// `authentication_owner.auth_type`: the values of Pod's AUTH_TYPE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum AuthType {
    /// Users Pod knows by its own password (Pod's `createsuperuser` default).
    #[default]
    #[value(name = "local")]
    Local,
    /// CAS single sign-on.
    #[value(name = "CAS")]
    Cas,
    /// OpenID Connect.
    #[value(name = "OIDC")]
    Oidc,
    /// Shibboleth.
    #[value(name = "Shibboleth")]
    Shibboleth,
}

impl AuthType {
    /// The value stored in `authentication_owner.auth_type`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthType::Local => "local",
            AuthType::Cas => "CAS",
            AuthType::Oidc => "OIDC",
            AuthType::Shibboleth => "Shibboleth",
        }
    }
}

/// What Pod sites differ on when a user is created.
#[derive(Debug, Clone)]
pub struct UserOptions {
    /// Site the Owner is linked to and the Favorites playlist belongs to.
    pub site_id: i32,
    /// `authentication_owner.auth_type`.
    pub auth_type: AuthType,
    /// `authentication_owner.affiliation` (Pod's AFFILIATION, first entry `student`).
    pub affiliation: String,
    /// `authentication_owner.establishment` (Pod's ESTABLISHMENTS, first entry `Etab_1`).
    pub establishment: String,
    /// `auth_user.is_staff`: Pod shows external recordings only to staff.
    pub staff: bool,
    /// Description of the Favorites playlist, in the site's language.
    pub favorites_description: String,
    /// Also match an existing user by e-mail when the username is unknown.
    pub match_email: bool,
}

/// A Pod user found or created.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Found {
    /// `auth_user.id`.
    pub id: i32,
    /// `auth_user.is_staff`.
    pub staff: bool,
}

fn found(r: &Row) -> Found {
    Found {
        id: r.get(0),
        staff: r.get(1),
    }
}

/// Django's `UnicodeUsernameValidator` (`^[\w.@+-]+\Z`; the 150-character limit is
/// checked apart).
pub fn django_username(u: &str) -> bool {
    !u.is_empty()
        && u.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '@' | '+' | '-'))
}

/// Django's `EmailValidator`: a dot-atom local part (quoted ones are refused), `@`, and a
/// domain of letter-digit-hyphen labels with a top-level label of at least two
/// characters, `localhost`, or an `[IP literal]`.
pub fn django_email(e: &str) -> bool {
    let Some((user, domain)) = e.rsplit_once('@') else {
        return false;
    };
    let atom = |a: &str| {
        !a.is_empty()
            && a.chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{}|~-".contains(c))
    };
    if !user.split('.').all(atom) {
        return false;
    }
    if domain == "localhost" {
        return true;
    }
    if let Some(ip) = domain.strip_prefix('[').and_then(|d| d.strip_suffix(']')) {
        let ip = ip.strip_prefix("IPv6:").unwrap_or(ip);
        return ip.parse::<std::net::IpAddr>().is_ok();
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let label = |l: &str| {
        (1..=63).contains(&l.chars().count())
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    labels.len() >= 2
        && labels.iter().all(|l| label(l))
        && labels.last().is_some_and(|t| t.chars().count() >= 2)
}

/// Pod's `Owner.hashkey`: sha256 hex of SECRET_KEY followed by the username.
pub fn hashkey(secret: &Secret, username: &str) -> String {
    let mut h = Sha256::new();
    h.update(secret.expose().as_bytes());
    h.update(username.as_bytes());
    hex::encode(h.finalize())
}

/// Finds and creates Pod users; remembers the users of committed records.
pub struct Users {
    opts: UserOptions,
    secret: Option<Secret>,
    /// How the database compares usernames, for the in-memory lookups.
    fold: fn(&str) -> String,
    cache: HashMap<String, Found>,
    lower: HashMap<String, Vec<Found>>,
    emails: HashMap<String, Vec<Found>>,
}

impl Users {
    /// Reads the existing users. Without a secret, users can be found but not created.
    pub fn new(db: &mut Db, opts: UserOptions, secret: Option<Secret>) -> anyhow::Result<Users> {
        let mut users = Users {
            fold: match db.engine() {
                Engine::Postgres => str::to_lowercase,
                Engine::MySql => fold_ci,
            },
            opts,
            secret,
            cache: HashMap::new(),
            lower: HashMap::new(),
            emails: HashMap::new(),
        };
        users.preload(db)?;
        Ok(users)
    }

    /// A username as the database compares it (the key of its creation lock).
    pub fn key(&self, username: &str) -> String {
        (self.fold)(username)
    }

    /// The options users are created with.
    pub fn options(&self) -> &UserOptions {
        &self.opts
    }

    /// Looks a person up among the users read at start and those created since: by
    /// username, else by username ignoring case when exactly one user matches (Moodle's
    /// `JDoe` is Pod's `jdoe`, not a new account), then (with `match_email`) by e-mail
    /// when exactly one user has it. `Ok(None)`: not in Pod (as of the start of the run;
    /// see [`Users::find_in_db`] when a creation meets a user made meanwhile).
    pub fn find(&self, p: &Person) -> anyhow::Result<Option<Found>> {
        if let Some(f) = self.cache.get(&p.username) {
            return Ok(Some(*f));
        }
        let one = |map: &HashMap<String, Vec<Found>>, key: String, what: &str| match map
            .get(&key)
            .map(Vec::as_slice)
        {
            None | Some([]) => Ok(None),
            Some([f]) => Ok(Some(*f)),
            Some(_) => Err(anyhow::anyhow!(
                "several Pod users match {} by {what}: which one is meant?",
                p.username
            )),
        };
        if let Some(f) = one(
            &self.lower,
            (self.fold)(&p.username),
            "username ignoring case",
        )? {
            return Ok(Some(f));
        }
        let email = p.email.as_deref().unwrap_or("").trim().to_lowercase();
        if self.opts.match_email && !email.is_empty() {
            return one(&self.emails, email, "e-mail");
        }
        Ok(None)
    }

    /// Like [`Users::find`], but asks the database (for users created by others meanwhile).
    pub fn find_in_db(&mut self, db: &mut Db, p: &Person) -> Result<Option<Found>, LookupError> {
        if let Some(f) = self.cache.get(&p.username) {
            return Ok(Some(*f));
        }
        // MariaDB compares with the column's collation (case and accents ignored), so at
        // most one user matches there; PostgreSQL may have `Alice` and `alice`.
        let rows = db.query(
            "SELECT id, is_staff, CASE WHEN username = $1 THEN 1 ELSE 0 END FROM auth_user \
             WHERE lower(username) = lower($1) ORDER BY 3 DESC, id LIMIT 2",
            params![&p.username],
        )?;
        match rows.as_slice() {
            [] => {}
            [r, ..] if r.get::<bool>(2) => return Ok(Some(found(r))),
            [r] => return Ok(Some(found(r))),
            _ => {
                return Err(LookupError::Other(anyhow::anyhow!(
                    "several Pod users are named {} but for case: which one is meant?",
                    p.username
                )));
            }
        }
        if self.opts.match_email {
            let email = p.email.as_deref().unwrap_or("").trim();
            let rows = db.query(
                "SELECT id, is_staff FROM auth_user WHERE $1 <> '' AND lower(email) = lower($1) \
                 ORDER BY id LIMIT 2",
                params![email],
            )?;
            match rows.len() {
                0 => {}
                1 => return Ok(Some(found(&rows[0]))),
                _ => {
                    return Err(LookupError::Other(anyhow::anyhow!(
                        "several Pod users have the e-mail of {} ({email}): which one is meant?",
                        p.username
                    )));
                }
            }
        }
        Ok(None)
    }

    /// Checks what `create` would refuse, without writing (also used by --dry-run).
    pub fn check_creatable(&self, p: &Person) -> anyhow::Result<()> {
        if p.username.trim().is_empty() {
            bail!("a moderator has an empty username");
        }
        if p.username.chars().count() > 150 {
            bail!(
                "username {:?} is longer than Pod's 150 characters",
                p.username
            );
        }
        if !django_username(&p.username) {
            bail!(
                "username {:?} is not one Pod accepts (Django: letters, digits and @ . + - _ only)",
                p.username
            );
        }
        let email = p.email.as_deref().unwrap_or("");
        if email.chars().count() > 254 {
            bail!(
                "the e-mail of {} is longer than Pod's 254 characters",
                p.username
            );
        }
        if !email.is_empty() && !django_email(email) {
            bail!(
                "the e-mail {email:?} of {} is not one Pod accepts (Django's EmailValidator)",
                p.username
            );
        }
        if self.secret.is_none() {
            bail!("cannot create user {}: no Pod secret key", p.username);
        }
        Ok(())
    }

    /// Creates the user with every row Pod makes for a new one (after the checks of
    /// [`Users::check_creatable`]; names cut to Pod's 150 characters), in the caller's
    /// transaction: auth_user, its Owner (hashkey), the Owner's site, the "home" folder,
    /// the Favorites playlist (slug `<id>-favorites`, known once the row has its id).
    pub fn create(&self, db: &mut Db, p: &Person) -> Result<Found, LookupError> {
        self.check_creatable(p).map_err(LookupError::Other)?;
        let Some(secret) = self.secret.as_ref() else {
            return Err(LookupError::Other(anyhow::anyhow!("no secret key")));
        };
        let o = &self.opts;
        let text = |v: &Option<String>| v.as_deref().unwrap_or("").trim().to_string();
        let hashkey = hashkey(secret, &p.username);
        // Pod's datetimes are UTC on both engines (never the server's local NOW()).
        let now = Utc::now();
        let id = db.insert(
            "INSERT INTO auth_user (password, last_login, is_superuser, username, first_name, \
             last_name, email, is_staff, is_active, date_joined) \
             VALUES ('', NULL, $1, $2, $3, $4, $5, $6, $7, $8)",
            params![
                false,
                &p.username,
                crate::pod::truncate_chars(&text(&p.firstname), 150),
                crate::pod::truncate_chars(&text(&p.lastname), 150),
                text(&p.email),
                o.staff,
                true,
                now
            ],
        )?;
        let owner = db.insert(
            "INSERT INTO authentication_owner (auth_type, affiliation, commentaire, hashkey, \
             establishment, accepts_notifications, user_id, userpicture_id) \
             VALUES ($1, $2, '', $3, $4, NULL, $5, NULL)",
            params![
                o.auth_type.as_str(),
                &o.affiliation,
                &hashkey,
                &o.establishment,
                id
            ],
        )?;
        db.execute(
            "INSERT INTO authentication_owner_sites (owner_id, site_id) VALUES ($1, $2)",
            params![owner, o.site_id],
        )?;
        db.execute(
            "INSERT INTO podfile_userfolder (name, created_at, owner_id) VALUES ('home', $1, $2)",
            params![now, id],
        )?;
        let playlist = db.insert(
            "INSERT INTO playlist_playlist (name, description, password, visibility, autoplay, \
             promoted, editable, slug, owner_id, site_id, date_created, date_updated) \
             VALUES ('Favorites', $1, '', 'private', $2, $3, $3, $4, $5, $6, $7, $7)",
            params![
                &o.favorites_description,
                true,
                false,
                format!("new-{hashkey}"),
                id,
                o.site_id,
                now
            ],
        )?;
        db.execute(
            "UPDATE playlist_playlist SET slug = $1 WHERE id = $2",
            params![format!("{playlist}-favorites"), playlist],
        )?;
        Ok(Found {
            id: i32::try_from(id).map_err(|e| LookupError::Other(e.into()))?,
            staff: o.staff,
        })
    }

    /// Remembers users once their record is committed, so later records find them.
    pub fn remember(&mut self, username: &str, f: Found) {
        if self.cache.insert(username.to_string(), f).is_none() {
            self.lower.entry((self.fold)(username)).or_default().push(f);
        }
    }

    /// Reads every user once, so that finding one needs no statement.
    fn preload(&mut self, db: &mut Db) -> anyhow::Result<()> {
        for r in db.query(
            "SELECT username, id, is_staff, lower(email) FROM auth_user",
            &[],
        )? {
            let f = Found {
                id: r.get(1),
                staff: r.get(2),
            };
            let username: String = r.get(0);
            self.remember(&username, f);
            let email: String = r.get(3);
            if self.opts.match_email && !email.trim().is_empty() {
                self.emails
                    .entry(email.trim().to_string())
                    .or_default()
                    .push(f);
            }
        }
        Ok(())
    }
}

/// A lookup or creation failure: a database error (classified by the caller) or another.
#[derive(Debug)]
pub enum LookupError {
    /// The database refused or the connection broke.
    Db(sql::Error),
    /// Anything else.
    Other(anyhow::Error),
}

impl From<sql::Error> for LookupError {
    fn from(e: sql::Error) -> Self {
        LookupError::Db(e)
    }
}

impl LookupError {
    /// As the run should see it: a lost database is fatal, anything else fails the record.
    pub fn for_record(self) -> anyhow::Error {
        match self {
            LookupError::Db(e) => e.for_record("Pod"),
            LookupError::Other(e) => e,
        }
    }
}

/// A username as MariaDB's `_ci` collations compare it: case and accents ignored
/// (`Élodie` is `elodie`).
fn fold_ci(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    s.nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .collect::<String>()
        .to_lowercase()
}

/// Checks that `secret` is Pod's SECRET_KEY: the hashkey it gives must be that of at
/// least one of the admin and the most recently active owners (Pod recomputes hashkeys
/// on every save, so active owners carry the current key). No owner at all: no check.
pub fn check_secret(db: &mut Db, secret: &Secret, admin: Option<i32>) -> anyhow::Result<()> {
    let rows = db.query(
        "SELECT u.username, o.hashkey FROM authentication_owner o JOIN auth_user u ON u.id = o.user_id \
         ORDER BY CASE WHEN u.id = $1 THEN 0 ELSE 1 END, CASE WHEN u.last_login IS NULL THEN 1 ELSE 0 END, \
         u.last_login DESC, u.id DESC LIMIT 50",
        params![admin.unwrap_or(-1)],
    )?;
    if rows.is_empty() {
        return Ok(());
    }
    let matches = rows
        .iter()
        .any(|r| hashkey(secret, &r.get::<String>(0)) == r.get::<String>(1));
    if !matches {
        bail!(
            "the secret key is not Pod's SECRET_KEY: it does not give the hashkey of any of {} \
             recent Pod owners (check POD_SECRET_KEY or --secret-key-file)",
            rows.len()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn django_username_and_email_rules() {
        for ok in ["jd", "jean.dupont", "a+b@c-d_e", "élève", "x1"] {
            assert!(django_username(ok), "{ok}");
        }
        for bad in ["", "a b", "a\tb", "a\nb", "a/b", "a'b", "a\u{0}"] {
            assert!(!django_username(bad), "{bad:?}");
        }
        for ok in [
            "jd@u.fr",
            "a.b+c@x-y.example.org",
            "x@localhost",
            "x@[127.0.0.1]",
            "é@exämple.fr",
        ] {
            assert!(django_email(ok) || ok.starts_with('é'), "{ok}");
        }
        assert!(!django_email("é@exämple.fr"), "a non-ASCII local part");
        for bad in [
            "jd",
            "jd@",
            "@u.fr",
            "a b@u.fr",
            "jd@u",
            "jd@u.f",
            "a..b@u.fr",
            "jd@-u.fr",
            "jd@u.fr\n",
            "\"q\"@u.fr",
        ] {
            assert!(!django_email(bad), "{bad:?}");
        }
    }

    #[test]
    fn ci_fold_ignores_case_and_accents() {
        assert_eq!(fold_ci("Élodie"), "elodie");
        assert_eq!(fold_ci("ALICE"), fold_ci("alice"));
        assert_ne!(fold_ci("alice"), fold_ci("alicia"));
    }

    #[test]
    fn hashkey_is_sha256_of_secret_then_username() {
        // printf 'skjdoe' | sha256sum
        assert_eq!(
            hashkey(&Secret::new("sk"), "jdoe"),
            "98fa50399cc43361a958171fe190eec24b6cb0c7e91da50190b63c6cb19f46f4"
        );
    }
}
