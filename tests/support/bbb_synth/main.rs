//! `bbb-synth`: placeholder until the renderer issue lands; exits 2.
fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(2)
}
