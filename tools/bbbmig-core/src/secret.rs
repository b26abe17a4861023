//! A secret that never prints, read from an environment variable or a file.

use anyhow::{Context, bail};
use std::fmt;
use std::path::Path;

/// A shared secret (BBB secret, Pod SECRET_KEY, a password). `Debug` and `Display` show `***`.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The value itself, for the one place that needs it (a hash, a connection).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Reads a secret from `file` (given with the option `option`) when given, else from the
/// environment variable `var`.
/// A file's first line is used, without its line end; an empty secret is an error. The
/// file must not be readable by group or others (like database files).
pub fn load(var: &str, option: &str, file: Option<&Path>) -> anyhow::Result<Secret> {
    let value = match file {
        Some(p) => {
            crate::pg::check_private(p)?;
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read the secret file {}", p.display()))?;
            text.lines().next().unwrap_or("").trim().to_string()
        }
        None => match std::env::var(var) {
            Ok(v) => v.trim().to_string(),
            Err(_) => bail!("no secret: set {var} or give {option} FILE"),
        },
    };
    if value.is_empty() {
        bail!(
            "the secret is empty ({})",
            file.map_or(var.to_string(), |p| p.display().to_string())
        );
    }
    Ok(Secret(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?}"), "*** Secret(***)");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn secret_file_first_line_trimmed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s");
        std::fs::write(&p, "abc \nrest\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = load("BBBMIG_TEST_UNSET", "--secret-file", Some(&p)).unwrap_err();
        assert!(format!("{e}").contains("chmod 600"), "{e}");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(
            load("BBBMIG_TEST_UNSET", "--secret-file", Some(&p))
                .unwrap()
                .expose(),
            "abc"
        );
        std::fs::write(&p, "\n").unwrap();
        assert!(load("BBBMIG_TEST_UNSET", "--secret-file", Some(&p)).is_err());
    }
}
