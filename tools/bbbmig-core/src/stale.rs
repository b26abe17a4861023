//! Temporary folders named after the process (and machine) that made them, and the sweep of
//! those whose process is gone (killed with -9, or the machine rebooted): nothing else would
//! remove them. Folders made on another machine (a shared NFS `--out`) are never touched.

use std::path::{Path, PathBuf};

/// This machine's name as it goes into folder names (letters, digits, `.` and `-`; never
/// `@` or `_`, which frame it).
pub(crate) fn host() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let name: String = name
        .trim()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-')
        .collect();
    if name.is_empty() {
        "localhost".into()
    } else {
        name
    }
}

/// A temporary folder in `dir` named `PREFIX<pid>@<host>_<random>`, removed when dropped.
pub fn tempdir_in(dir: &Path, prefix: &str) -> std::io::Result<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix(&format!("{prefix}{}@{}_", std::process::id(), host()))
        .tempdir_in(dir)
}

/// Removes the folders `PREFIX<pid>@<host>_…` of `dir` made on this machine whose process no
/// longer runs; returns them. A folder whose pid runs (even if the pid was reused), or made
/// on another machine, is left alone.
pub fn sweep(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return removed;
    };
    let here = host();
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(prefix)) else {
            continue;
        };
        let Some((pid, rest)) = rest.split_once('@') else {
            continue;
        };
        let Ok(pid) = pid.parse::<u32>() else {
            continue;
        };
        if !rest.starts_with(&format!("{here}_")) {
            continue;
        }
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
        let h = host();
        // 4194304 is above Linux's highest pid: that process cannot run.
        let gone = d.path().join(format!(".x-4194305@{h}_abc"));
        std::fs::create_dir_all(gone.join("sub")).unwrap();
        std::fs::write(gone.join("sub/f"), b"data").unwrap();
        let alive = d.path().join(format!(".x-{}@{h}_def", std::process::id()));
        std::fs::create_dir(&alive).unwrap();
        let init = d.path().join(format!(".x-1@{h}_ghi")); // pid 1 always runs
        std::fs::create_dir(&init).unwrap();
        let other = d.path().join(format!(".y-4194305@{h}_abc"));
        std::fs::create_dir(&other).unwrap();
        // Made on another machine sharing the folder (`HOST-2`): its pids mean nothing here.
        let elsewhere = d.path().join(format!(".x-4194305@{h}-2_abc"));
        std::fs::create_dir(&elsewhere).unwrap();
        let file = d.path().join(format!(".x-4194305@{h}_file"));
        std::fs::write(&file, b"").unwrap();
        let mine = tempdir_in(d.path(), ".x-").unwrap();
        assert_eq!(sweep(d.path(), ".x-"), vec![gone.clone()]);
        assert!(!gone.exists());
        assert!(alive.exists() && init.exists() && other.exists() && file.exists());
        assert!(elsewhere.exists());
        assert!(mine.path().exists());
        let name = mine
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(
            name.starts_with(&format!(".x-{}@{h}_", std::process::id())),
            "{name}"
        );
    }
}
