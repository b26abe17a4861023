//! The per-recording lease in `--out` (`.BASE.lease`): one job at a time makes a video, on
//! any host sharing the folder. Created atomically (a hard link, which NFS does atomically),
//! naming host and pid, renewed while held; a lease not renewed for `--lease-expire`
//! seconds (its host died), or held by a dead process of this host, is taken over, and only
//! then are the dead holder's temporary files removed.

use std::collections::HashMap;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// The leases of this process, renewed by one thread.
pub struct Leases {
    dir: PathBuf,
    expire: Duration,
    /// Lease file → the token written in it.
    held: Arc<Mutex<HashMap<PathBuf, String>>>,
}

/// Who holds a lease, as written in its file: `HOST PID TOKEN`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub host: String,
    pub pid: u32,
    token: String,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} pid {}", self.host, self.pid)
    }
}

/// The outcome of asking for a lease.
pub enum Acquired<'a> {
    Held(Lease<'a>),
    /// Another live job holds it.
    Busy(Holder),
}

/// A held lease: removed when dropped (if still ours).
pub struct Lease<'a> {
    leases: &'a Leases,
    path: PathBuf,
    token: String,
}

impl Leases {
    /// Leases in `dir` that expire after `expire` without renewal; starts the renewing thread.
    pub fn new(dir: &Path, expire: Duration) -> Leases {
        let held: Arc<Mutex<HashMap<PathBuf, String>>> = Arc::default();
        let renewing = held.clone();
        let every = (expire / 4).max(Duration::from_millis(250));
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(every);
                let paths: Vec<PathBuf> = lock(&renewing).keys().cloned().collect();
                for p in paths {
                    let touched = std::fs::File::options()
                        .write(true)
                        .open(&p)
                        .and_then(|f| f.set_modified(SystemTime::now()));
                    if let Err(e) = touched {
                        log::warn!("cannot renew the lease {}: {e}", p.display());
                    }
                }
            }
        });
        Leases {
            dir: dir.to_path_buf(),
            expire,
            held,
        }
    }

    /// The lease file of the video named `base`.
    pub fn path(&self, base: &str) -> PathBuf {
        self.dir.join(format!(".{base}.lease"))
    }

    /// Takes the lease of `base`, or says who holds it; with `wait`, waits until it is
    /// free (or expired) instead.
    pub async fn acquire(&self, base: &str, wait: bool) -> anyhow::Result<Acquired<'_>> {
        loop {
            match self.try_acquire(base)? {
                Acquired::Busy(h) if wait => {
                    log::info!("{base}: made by {h}; waiting (--wait-busy)");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                a => return Ok(a),
            }
        }
    }

    fn try_acquire(&self, base: &str) -> anyhow::Result<Acquired<'_>> {
        let path = self.path(base);
        let me = Holder {
            host: crate::stale::host(),
            pid: std::process::id(),
            token: format!(
                "{:x}",
                SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_nanos()
            ),
        };
        for _ in 0..5 {
            match create(&path, &me) {
                Ok(()) => {
                    lock(&self.held).insert(path.clone(), me.token.clone());
                    return Ok(Acquired::Held(Lease {
                        leases: self,
                        path,
                        token: me.token,
                    }));
                }
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
                Err(e) => {
                    return Err(anyhow::Error::new(e)
                        .context(format!("cannot create the lease {}", path.display())));
                }
            }
            let Some((holder, age)) = read(&path) else {
                continue; // released meanwhile
            };
            let dead = holder.host == me.host
                && holder.pid != me.pid
                && !Path::new(&format!("/proc/{}", holder.pid)).exists();
            if !dead && age < self.expire {
                return Ok(Acquired::Busy(holder));
            }
            if self.take_over(&path, &holder, &me)? {
                log::info!(
                    "{base}: took over the lease of {holder} ({})",
                    if dead {
                        "process gone".to_string()
                    } else {
                        format!("not renewed for {} s", age.as_secs())
                    }
                );
                self.remove_files_of(&holder);
            }
        }
        anyhow::bail!(
            "cannot take the lease {}: it keeps changing",
            path.display()
        )
    }

    /// Moves a stale lease aside; false if it was not the one judged stale (then it is
    /// put back).
    fn take_over(&self, path: &Path, stale: &Holder, me: &Holder) -> anyhow::Result<bool> {
        let aside = path.with_extension(format!("lease.{}-{}", me.pid, me.token));
        match std::fs::rename(path, &aside) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e.into()),
        }
        let moved = read(&aside).map(|(h, _)| h);
        if moved.as_ref() != Some(stale) {
            // Someone else's fresh lease: put it back unless another appeared.
            let _ = std::fs::hard_link(&aside, path);
        }
        let _ = std::fs::remove_file(&aside);
        Ok(moved.as_ref() == Some(stale))
    }

    /// Removes the folders of published files a dead holder left in the folder.
    fn remove_files_of(&self, h: &Holder) {
        let prefix = format!("{}{}@{}_", super::source::FILES_PREFIX, h.pid, h.host);
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with(&prefix) {
                match std::fs::remove_dir_all(e.path()) {
                    Ok(()) => log::info!("removed {}, left by {h}", e.path().display()),
                    Err(err) => log::warn!("cannot remove {}: {err}", e.path().display()),
                }
            }
        }
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        lock(&self.leases.held).remove(&self.path);
        if read(&self.path).is_some_and(|(h, _)| h.token == self.token) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Removes the temporary files earlier runs of `base` left in `dir` (a render's or
/// bbb-recorder's `.BASE.part.EXT`; a download's `.BASE.part` too unless `keep_download`,
/// which a download resumes). Called under the lease.
pub fn clean_leftovers(dir: &Path, base: &str, keep_download: bool) {
    let part = format!(".{base}.part");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        let leftover = (name == part && !keep_download)
            || name
                .strip_prefix(&part)
                .is_some_and(|ext| ext.starts_with('.') && !ext[1..].contains('.'));
        if leftover && e.file_type().is_ok_and(|t| t.is_file()) {
            match std::fs::remove_file(e.path()) {
                Ok(()) => log::info!("removed {}, left by an earlier run", e.path().display()),
                Err(err) => log::warn!("cannot remove {}: {err}", e.path().display()),
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Writes the holder to a file of its own, then links it to `path` (fails if it exists).
fn create(path: &Path, me: &Holder) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("lease.new.{}-{}", me.pid, me.token));
    std::fs::write(&tmp, format!("{} {} {}\n", me.host, me.pid, me.token))?;
    let linked = match std::fs::hard_link(&tmp, path) {
        // A file system without hard links: O_EXCL (atomic on NFS v3 and later too).
        Err(e) if e.kind() != ErrorKind::AlreadyExists => {
            std::fs::File::create_new(path).and_then(|_| std::fs::write(path, std::fs::read(&tmp)?))
        }
        r => r,
    };
    let _ = std::fs::remove_file(&tmp);
    linked
}

/// The holder of a lease file and the time since it was last renewed; `None` if it is gone.
/// A file still empty (being written) counts as freshly held by nobody known.
fn read(path: &Path) -> Option<(Holder, Duration)> {
    let text = std::fs::read_to_string(path).ok()?;
    let age = std::fs::metadata(path)
        .ok()?
        .modified()
        .ok()
        .and_then(|m| SystemTime::now().duration_since(m).ok())
        .unwrap_or_default();
    let mut w = text.split_whitespace();
    let holder = match (w.next(), w.next().and_then(|p| p.parse().ok()), w.next()) {
        (Some(host), Some(pid), Some(token)) => Holder {
            host: host.to_string(),
            pid,
            token: token.to_string(),
        },
        _ => Holder {
            host: "?".into(),
            pid: 0,
            token: String::new(),
        },
    };
    Some((holder, age))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake(dir: &Path, base: &str, host: &str, pid: u32) -> PathBuf {
        let p = dir.join(format!(".{base}.lease"));
        std::fs::write(&p, format!("{host} {pid} t0\n")).unwrap();
        p
    }

    #[tokio::test]
    async fn one_holder_at_a_time_and_takeover_of_dead_or_expired() {
        let d = tempfile::tempdir().unwrap();
        let leases = Leases::new(d.path(), Duration::from_secs(60));
        let Acquired::Held(a) = leases.acquire("x", false).await.unwrap() else {
            panic!("free lease not taken")
        };
        let Acquired::Busy(h) = leases.try_acquire("x").unwrap() else {
            panic!("held lease taken twice")
        };
        assert_eq!(h.pid, std::process::id());
        drop(a);
        assert!(!leases.path("x").exists());
        // A dead process of this host: taken at once.
        fake(d.path(), "y", &crate::stale::host(), 4194305);
        assert!(matches!(
            leases.try_acquire("y").unwrap(),
            Acquired::Held(_)
        ));
        // A live process of another host: busy until it stops renewing.
        let p = fake(d.path(), "z", "elsewhere", 1);
        let files = d.path().join(format!(
            "{}1@elsewhere_ab",
            super::super::source::FILES_PREFIX
        ));
        std::fs::create_dir(&files).unwrap();
        assert!(matches!(
            leases.try_acquire("z").unwrap(),
            Acquired::Busy(_)
        ));
        assert!(files.exists());
        let old = SystemTime::now() - Duration::from_secs(61);
        std::fs::File::options()
            .write(true)
            .open(&p)
            .unwrap()
            .set_modified(old)
            .unwrap();
        let Acquired::Held(z) = leases.try_acquire("z").unwrap() else {
            panic!("expired lease not taken over")
        };
        assert!(!files.exists());
        assert!(std::fs::read_to_string(&p).unwrap().contains(&z.token));
    }

    #[test]
    fn leftovers_are_the_parts_of_this_base_only() {
        let d = tempfile::tempdir().unwrap();
        for n in [
            ".a.part",
            ".a.part.mp4",
            ".a.part.webm",
            ".ab.part",
            ".a.mp4",
            "a.mp4",
        ] {
            std::fs::write(d.path().join(n), b"").unwrap();
        }
        clean_leftovers(d.path(), "a", true);
        let mut left: Vec<String> = std::fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, [".a.mp4", ".a.part", ".ab.part", "a.mp4"]);
        clean_leftovers(d.path(), "a", false);
        assert!(!d.path().join(".a.part").exists());
    }
}
