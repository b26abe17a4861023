//! Where a video goes: its final name, its temporary name in the same folder, the
//! complete-or-nothing rename, reuse of an existing output, and free-space checks.

use anyhow::Context;
use std::path::{Path, PathBuf};

/// Extensions an existing complete output may have.
pub const EXTENSIONS: &[&str] = &["mp4", "m4v", "webm", "mkv"];

/// The output of one record: `DIR/BASE.EXT`, written as `DIR/.BASE.part` first.
#[derive(Debug, Clone)]
pub struct Target {
    pub dir: PathBuf,
    pub base: String,
}

impl Target {
    /// An existing final output of this record, whatever its extension.
    pub fn existing(&self) -> Option<PathBuf> {
        EXTENSIONS
            .iter()
            .map(|e| self.final_path(e))
            .find(|p| std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_file()))
    }

    /// The final path for this extension.
    pub fn final_path(&self, ext: &str) -> PathBuf {
        self.dir.join(format!("{}.{ext}", self.base))
    }

    /// The temporary file of a download, kept between runs so that a rerun resumes it.
    pub fn part(&self) -> PathBuf {
        self.dir.join(format!(".{}.part", self.base))
    }

    /// The temporary file of a render or a bbb-recorder run (ffmpeg wants an extension).
    pub fn part_with(&self, ext: &str) -> PathBuf {
        self.dir.join(format!(".{}.part.{ext}", self.base))
    }

    /// Moves a complete, checked temporary file to its final name: synced to disk, then
    /// linked under the final name (which fails rather than overwrite anything), then
    /// the temporary name removed and the folder synced. Neither name may be a link or
    /// anything but the plain file this run wrote (checked by inode after the link).
    pub fn finish(&self, part: &Path, ext: &str) -> anyhow::Result<PathBuf> {
        use std::os::unix::fs::MetadataExt;
        let dest = self.final_path(ext);
        let f = super::safe_fs::open_read(part)
            .and_then(|f| f.sync_all().map(|()| f))
            .with_context(|| format!("cannot sync {}", part.display()))?;
        let ino = f.metadata()?.ino();
        drop(f);
        match std::fs::hard_link(part, &dest) {
            Ok(()) => {
                std::fs::remove_file(part)
                    .with_context(|| format!("cannot remove {}", part.display()))?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                anyhow::bail!("{} appeared meanwhile; not overwritten", dest.display())
            }
            // A file system without hard links: a plain rename, after checking.
            Err(_) => {
                if dest.exists() {
                    anyhow::bail!("{} appeared meanwhile; not overwritten", dest.display());
                }
                std::fs::rename(part, &dest).with_context(|| {
                    format!("cannot rename {} to {}", part.display(), dest.display())
                })?;
            }
        }
        let placed = std::fs::symlink_metadata(&dest)
            .with_context(|| format!("cannot read {}", dest.display()))?;
        if !placed.file_type().is_file() || placed.ino() != ino {
            // Swapped for a link between the check and the link: take the name back.
            let _ = std::fs::remove_file(&dest);
            anyhow::bail!(
                "{} was replaced by something else while it was moved; not used",
                part.display()
            );
        }
        if let Ok(d) = std::fs::File::open(&self.dir) {
            let _ = d.sync_all();
        }
        Ok(dest)
    }
}

/// The folder of `--out` (a setting, checked before any record is read), made absolute;
/// created and checked writable unless `dry_run`.
pub fn prepare(out: Option<&Path>, dry_run: bool) -> anyhow::Result<std::path::PathBuf> {
    let Some(out) = out else {
        anyhow::bail!("no video folder: give --out DIR");
    };
    if !dry_run {
        std::fs::create_dir_all(out)
            .with_context(|| format!("cannot create --out {}", out.display()))?;
    }
    let dir = std::path::absolute(out)?;
    if !dry_run {
        ensure_writable(&dir)?;
    }
    Ok(dir)
}

/// Fails (at start) unless a file can be created in `dir`: a read-only or unwritable
/// `--out` would fail every record otherwise.
pub fn ensure_writable(dir: &Path) -> anyhow::Result<()> {
    let probe = dir.join(format!(".bbb-record-check-{}", std::process::id()));
    let _ = std::fs::remove_file(&probe);
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .with_context(|| format!("--out {} is not writable", dir.display()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// Bytes available to us on the file system of `dir`.
pub fn free_bytes(dir: &Path) -> anyhow::Result<u64> {
    let s = rustix::fs::statvfs(dir)
        .with_context(|| format!("cannot read the free space of {}", dir.display()))?;
    Ok(s.f_bavail.saturating_mul(s.f_frsize))
}

/// Fails when writing `needed` more bytes would leave less than `keep_free` bytes free.
pub fn ensure_space(dir: &Path, needed: u64, keep_free: u64) -> anyhow::Result<()> {
    let free = free_bytes(dir)?;
    if free < needed.saturating_add(keep_free) {
        anyhow::bail!(
            "not enough free space in {}: {} needed (+{} kept free by --keep-free), {} available",
            dir.display(),
            human(needed),
            human(keep_free),
            human(free)
        );
    }
    Ok(())
}

/// `1536000` → `1.5 MB`.
pub fn human(n: u64) -> String {
    let f = n as f64;
    if f >= 1e9 {
        format!("{:.1} GB", f / 1e9)
    } else if f >= 1e6 {
        format!("{:.1} MB", f / 1e6)
    } else if f >= 1e3 {
        format!("{:.1} kB", f / 1e3)
    } else {
        format!("{n} B")
    }
}

/// True when an I/O error (anywhere in the chain) is a full disk or quota.
pub fn is_disk_full(e: &anyhow::Error) -> bool {
    crate::error::io_errors(e).any(crate::error::is_no_space)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finish_never_overwrites() {
        let d = tempfile::tempdir().unwrap();
        let t = Target {
            dir: d.path().to_path_buf(),
            base: "x".into(),
        };
        std::fs::write(t.part(), b"new").unwrap();
        std::fs::write(t.final_path("mp4"), b"old").unwrap();
        assert!(t.finish(&t.part(), "mp4").is_err());
        assert_eq!(std::fs::read(t.final_path("mp4")).unwrap(), b"old");
        std::fs::remove_file(t.final_path("mp4")).unwrap();
        let p = t.finish(&t.part(), "mp4").unwrap();
        assert_eq!(std::fs::read(p).unwrap(), b"new");
        assert!(!t.part().exists());
        assert_eq!(t.existing(), Some(t.final_path("mp4")));
    }
}
