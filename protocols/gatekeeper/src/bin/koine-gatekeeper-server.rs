//! The reference gatekeeper server; see `koine_gatekeeper::server`.

fn main() -> std::process::ExitCode {
    match koine_gatekeeper::server::cli::main() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("koine-gatekeeper-server: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
