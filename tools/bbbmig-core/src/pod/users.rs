//! Pod users: finding them (by username, optionally by email) and creating the missing
//! ones with every row Pod's own code makes for a new user (auth_user, its Owner with
//! the hashkey computed from SECRET_KEY, the Owner's site, the podfile "home" folder
//! and the "Favorites" playlist), in the caller's transaction.

use crate::secret::Secret;
use anyhow::{Context, bail};
use postgres::{Client, GenericClient, Statement};
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

fn found(r: &postgres::Row) -> Found {
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

/// The rows Pod's own code makes for each new user (Django signals: `create_owner_profile`,
/// `default_site_owner`, `create_owner_directory`, the Favorites playlist), as common table
/// expressions to put after `WITH` in one statement, so that they commit with the rest of
/// the record. Parameters: $1 usernames, $2 first names, $3 last names, $4 e-mails,
/// $5 hashkeys, $6 positions (text/int4 arrays, one entry per user), $7 is_staff,
/// $8 auth_type, $9 affiliation, $10 establishment, $11 site id, $12 Favorites description.
/// `u` (id, username) and `p` (username, pos) are the users made.
pub const NEW_USERS_SQL: &str = "
p AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int4[])
    AS t(username, first_name, last_name, email, hashkey, pos)),
u AS (
  INSERT INTO auth_user (password, last_login, is_superuser, username, first_name, last_name,
                         email, is_staff, is_active, date_joined)
  SELECT '', NULL, false, username, first_name, last_name, email, $7, true, now()
  FROM p ORDER BY pos
  RETURNING id, username),
o AS (
  INSERT INTO authentication_owner (auth_type, affiliation, commentaire, hashkey, establishment,
                                    accepts_notifications, user_id, userpicture_id)
  SELECT $8, $9, '', p.hashkey, $10, NULL, u.id, NULL FROM u JOIN p ON p.username = u.username
  RETURNING id),
s AS (
  INSERT INTO authentication_owner_sites (owner_id, site_id) SELECT o.id, $11 FROM o),
f AS (
  INSERT INTO podfile_userfolder (name, created_at, owner_id) SELECT 'home', now(), u.id FROM u),
n AS (
  SELECT nextval(pg_get_serial_sequence('playlist_playlist', 'id')) AS pid, u.id AS uid FROM u),
pl AS (
  INSERT INTO playlist_playlist (id, name, description, password, visibility, autoplay, promoted,
                                 editable, slug, owner_id, site_id, date_created, date_updated)
  SELECT pid, 'Favorites', $12, '', 'private', true, false, false, pid || '-favorites',
         uid, $11, now(), now()
  FROM n)";

/// The per-user values of [`NEW_USERS_SQL`] ($1 to $6).
#[derive(Debug, Default)]
pub struct NewUsers {
    /// $1
    pub usernames: Vec<String>,
    /// $2
    pub first_names: Vec<String>,
    /// $3
    pub last_names: Vec<String>,
    /// $4
    pub emails: Vec<String>,
    /// $5
    pub hashkeys: Vec<String>,
    /// $6: where each user stands among the record's owners.
    pub positions: Vec<i32>,
}

/// Finds and creates Pod users; remembers the users of committed records.
pub struct Users {
    opts: UserOptions,
    secret: Option<Secret>,
    by_username: Statement,
    by_email: Statement,
    cache: HashMap<String, Found>,
    lower: HashMap<String, Vec<Found>>,
    emails: HashMap<String, Vec<Found>>,
}

impl Users {
    /// Prepares the statements and reads the existing usernames. Without a secret, users
    /// can be found but not created.
    pub fn new(
        client: &mut Client,
        opts: UserOptions,
        secret: Option<Secret>,
    ) -> anyhow::Result<Users> {
        let mut users = Users {
            by_username: client.prepare(
                "SELECT id, is_staff, username = $1 FROM auth_user \
                 WHERE lower(username) = lower($1) ORDER BY (username = $1) DESC, id LIMIT 2",
            )?,
            by_email: client.prepare(
                "SELECT id, is_staff FROM auth_user WHERE $1 <> '' AND lower(email) = lower($1) \
                 ORDER BY id LIMIT 2",
            )?,
            opts,
            secret,
            cache: HashMap::new(),
            lower: HashMap::new(),
            emails: HashMap::new(),
        };
        users.preload(client)?;
        Ok(users)
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
            p.username.to_lowercase(),
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
    pub fn find_in_db(
        &mut self,
        db: &mut impl GenericClient,
        p: &Person,
    ) -> Result<Option<Found>, LookupError> {
        if let Some(f) = self.cache.get(&p.username) {
            return Ok(Some(*f));
        }
        let rows = db.query(&self.by_username, &[&p.username])?;
        match rows.as_slice() {
            [] => {}
            [r, ..] if r.get::<_, bool>(2) => return Ok(Some(found(r))),
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
            let rows = db.query(&self.by_email, &[&email])?;
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

    /// Adds a person to create to `new` (the values of [`NEW_USERS_SQL`]), after the
    /// checks of [`Users::check_creatable`]; names are cut to Pod's 150 characters.
    pub fn add_new(&self, new: &mut NewUsers, p: &Person, position: i32) -> anyhow::Result<()> {
        self.check_creatable(p)?;
        let secret = self.secret.as_ref().context("no secret key")?;
        let text = |v: &Option<String>| v.as_deref().unwrap_or("").trim().to_string();
        new.usernames.push(p.username.clone());
        new.first_names
            .push(crate::pod::truncate_chars(&text(&p.firstname), 150));
        new.last_names
            .push(crate::pod::truncate_chars(&text(&p.lastname), 150));
        new.emails.push(text(&p.email));
        new.hashkeys.push(hashkey(secret, &p.username));
        new.positions.push(position);
        Ok(())
    }

    /// Remembers users once their record is committed, so later records find them.
    pub fn remember(&mut self, username: &str, f: Found) {
        if self.cache.insert(username.to_string(), f).is_none() {
            self.lower
                .entry(username.to_lowercase())
                .or_default()
                .push(f);
        }
    }

    /// Reads every user once, so that finding one needs no statement.
    fn preload(&mut self, client: &mut Client) -> anyhow::Result<()> {
        for r in client.query(
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
    Db(postgres::Error),
    /// Anything else.
    Other(anyhow::Error),
}

impl From<postgres::Error> for LookupError {
    fn from(e: postgres::Error) -> Self {
        LookupError::Db(e)
    }
}

/// Checks that `secret` is Pod's SECRET_KEY: the hashkey it gives must be that of at
/// least one of the admin and the most recently active owners (Pod recomputes hashkeys
/// on every save, so active owners carry the current key). No owner at all: no check.
pub fn check_secret(
    client: &mut Client,
    secret: &Secret,
    admin: Option<i32>,
) -> anyhow::Result<()> {
    let rows = client.query(
        "SELECT u.username, o.hashkey FROM authentication_owner o JOIN auth_user u ON u.id = o.user_id \
         ORDER BY (u.id = $1) DESC, u.last_login DESC NULLS LAST, u.id DESC LIMIT 50",
        &[&admin.unwrap_or(-1)],
    )?;
    if rows.is_empty() {
        return Ok(());
    }
    let matches = rows
        .iter()
        .any(|r| hashkey(secret, r.get::<_, &str>(0)) == r.get::<_, &str>(1));
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
    fn hashkey_is_sha256_of_secret_then_username() {
        // printf 'skjdoe' | sha256sum
        assert_eq!(
            hashkey(&Secret::new("sk"), "jdoe"),
            "98fa50399cc43361a958171fe190eec24b6cb0c7e91da50190b63c6cb19f46f4"
        );
    }
}
