//! Temporary folders named after the process that made them, and the sweep of those whose
//! process is gone (killed with -9, or the machine rebooted): nothing else would remove them.

use std::path::{Path, PathBuf};

/// A temporary folder in `dir` named `PREFIX<pid>-<random>`, removed when dropped.
pub fn tempdir_in(dir: &Path, prefix: &str) -> std::io::Result<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix(&format!("{prefix}{}-", std::process::id()))
        .tempdir_in(dir)
}

/// Removes the folders `PREFIX<pid>-…` of `dir` whose process no longer runs; returns them.
/// A folder whose pid runs (even if the pid was reused) is left alone.
pub fn sweep(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return removed;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(prefix)) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
        if !is_dir || pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        let path = e.path();
        match std::fs::remove_dir_all(&path) {
            Ok(()) => {
                log::info!(
                    "removed {}, left by process {pid} which no longer runs",
                    path.display()
                );
                removed.push(path);
            }
            Err(err) => log::warn!("cannot remove {}: {err}", path.display()),
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_folders_of_processes_that_are_gone_are_removed() {
        let d = tempfile::tempdir().unwrap();
        // 4194304 is above Linux's highest pid: that process cannot run.
        let gone = d.path().join(".x-4194305-abc");
        std::fs::create_dir_all(gone.join("sub")).unwrap();
        std::fs::write(gone.join("sub/f"), b"data").unwrap();
        let alive = d.path().join(format!(".x-{}-def", std::process::id()));
        std::fs::create_dir(&alive).unwrap();
        let init = d.path().join(".x-1-ghi"); // pid 1 always runs
        std::fs::create_dir(&init).unwrap();
        let other = d.path().join(".y-4194305-abc");
        std::fs::create_dir(&other).unwrap();
        let file = d.path().join(".x-4194305-file");
        std::fs::write(&file, b"").unwrap();
        let mine = tempdir_in(d.path(), ".x-").unwrap();
        assert_eq!(sweep(d.path(), ".x-"), vec![gone.clone()]);
        assert!(!gone.exists());
        assert!(alive.exists() && init.exists() && other.exists() && file.exists());
        assert!(mine.path().exists());
        let name = mine
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(
            name.starts_with(&format!(".x-{}-", std::process::id())),
            "{name}"
        );
    }
}
