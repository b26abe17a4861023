//! `pod-import`: placeholder until its issue lands; exits 2.
fn main() -> std::process::ExitCode {
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        b"pod-import: error: not built yet\n",
    );
    std::process::ExitCode::from(2)
}
