//! The `roster` binary.

fn main() -> std::process::ExitCode {
    roster::run(std::env::args_os())
}
