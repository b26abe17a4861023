//! Opening files in a shared folder without trusting what others planted there: never
//! through a symbolic link, never a FIFO or device, never a file with other hard links.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

/// Fails unless `f` (opened as `path`) is a regular file with no other name.
pub fn ensure_regular(f: &File, path: &Path) -> io::Result<()> {
    let m = f.metadata()?;
    if !m.file_type().is_file() || m.nlink() > 1 {
        return Err(not_regular(path));
    }
    Ok(())
}

/// Opens `path` for writing without following a symbolic link at its name, created when
/// missing; appending when `append`, else emptied (only once it is known to be a plain
/// file). Anything else at that name is refused.
pub fn open_write(path: &Path, append: bool) -> io::Result<File> {
    let f = OpenOptions::new()
        .write(true)
        .append(append)
        .create(true)
        .mode(0o644)
        .custom_flags(nofollow())
        .open(path)
        .map_err(|e| refused(e, path))?;
    ensure_regular(&f, path)?;
    if !append {
        f.set_len(0)?;
    }
    Ok(f)
}

/// Opens an existing `path` for reading, refusing a link or anything but a plain file.
pub fn open_read(path: &Path) -> io::Result<File> {
    let f = OpenOptions::new()
        .read(true)
        .custom_flags(nofollow())
        .open(path)
        .map_err(|e| refused(e, path))?;
    ensure_regular(&f, path)?;
    Ok(f)
}

/// The size of `path` when it is a plain file (not followed when a link), else 0.
pub fn regular_len(path: &Path) -> u64 {
    std::fs::symlink_metadata(path)
        .ok()
        .filter(|m| m.file_type().is_file())
        .map_or(0, |m| m.len())
}

/// True when something other than a plain file (a link, FIFO…) sits at `path`.
pub fn is_foreign(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| !m.file_type().is_file())
}

fn nofollow() -> i32 {
    // O_NONBLOCK: opening a FIFO never waits for a reader (no effect on plain files).
    (rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK).bits() as i32
}

fn not_regular(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "{} is not a regular file of its own (a symbolic link, FIFO, device or hard link planted there?): not used",
            path.display()
        ),
    )
}

/// ELOOP is what O_NOFOLLOW answers for a link at the name, ENXIO what O_NONBLOCK
/// answers for a FIFO without reader.
fn refused(e: io::Error, path: &Path) -> io::Error {
    let planted = [rustix::io::Errno::LOOP, rustix::io::Errno::NXIO]
        .iter()
        .any(|n| e.raw_os_error() == Some(n.raw_os_error()));
    if planted { not_regular(path) } else { e }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_and_fifos_are_refused_and_left_alone() {
        let d = tempfile::tempdir().unwrap();
        let victim = d.path().join("victim");
        std::fs::write(&victim, b"precious").unwrap();
        let link = d.path().join("link");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        assert!(open_write(&link, false).is_err());
        assert!(open_write(&link, true).is_err());
        let hard = d.path().join("hard");
        std::fs::hard_link(&victim, &hard).unwrap();
        assert!(open_write(&hard, false).is_err());
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        assert_eq!(regular_len(&link), 0);
        assert!(is_foreign(&link));
        let plain = d.path().join("plain");
        let mut f = open_write(&plain, false).unwrap();
        io::Write::write_all(&mut f, b"abc").unwrap();
        assert_eq!(regular_len(&plain), 3);
        assert!(open_read(&plain).is_ok() && open_read(&link).is_err());
    }
}
