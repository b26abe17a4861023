//! Child processes that die with their parent: a `kill -9` of a tool never leaves its
//! ffmpeg, ffprobe or bbb-recorder runs working on for nothing. Every child the tools
//! start goes through [`die_with_parent`] (std) or [`command`] (tokio).

use std::os::unix::process::CommandExt;

/// Makes the child started by `cmd` receive SIGKILL when the thread that starts it ends
/// (Linux `PR_SET_PDEATHSIG`). Only for children started by a thread that outlives them:
/// one that waits for them, or a tokio runtime's worker (they last as long as the runtime).
pub fn die_with_parent(cmd: &mut std::process::Command) -> &mut std::process::Command {
    let parent = rustix::process::getpid();
    // SAFETY: only async-signal-safe system calls (prctl, getppid, kill) run in the
    // child between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL))?;
            // The parent may have died before the prctl: then nobody will send it.
            if rustix::process::getppid() != Some(parent) {
                let _ = rustix::process::kill_process(
                    rustix::process::getpid(),
                    rustix::process::Signal::KILL,
                );
            }
            Ok(())
        })
    }
}

/// A tokio command for `program` whose child dies with its parent ([`die_with_parent`]).
pub fn command(program: impl AsRef<std::ffi::OsStr>) -> tokio::process::Command {
    let mut cmd = std::process::Command::new(program);
    die_with_parent(&mut cmd);
    tokio::process::Command::from(cmd)
}
