//! Shell completions of a tool (bash, zsh, fish), printed by the hidden
//! `TOOL --generate-completions SHELL` that scripts/package runs.

use clap::CommandFactory;
use clap_complete::Shell;

/// When the arguments are exactly `--generate-completions SHELL`, prints the completion
/// script of the tool to stdout and returns the exit code; otherwise `None`.
pub fn requested<A: CommandFactory>(tool: &str) -> Option<std::process::ExitCode> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [flag, shell] = args.as_slice() else {
        return None;
    };
    if flag != "--generate-completions" {
        return None;
    }
    let Ok(shell) = <Shell as clap::ValueEnum>::from_str(shell, true) else {
        crate::diag::error(
            tool,
            &format!("no completions for shell {shell:?}: bash, zsh, fish, elvish or powershell"),
        );
        return Some(std::process::ExitCode::from(2));
    };
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut A::command(), tool, &mut script);
    // A closed pipe (`| head`) is no error.
    let _ = std::io::Write::write_all(&mut std::io::stdout(), &script);
    Some(std::process::ExitCode::SUCCESS)
}
