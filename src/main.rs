//! The `otel-bootstrap` binary: parse, run, render errors. Exit codes: 0 success,
//! 1 a problem was found, 2 an error.

use std::process::ExitCode;

use clap::Parser;
use otel_bootstrap::cli::Cli;
use otel_bootstrap::commands::{run, ExitStatus};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // `--help` goes to stdout with exit 0; usage errors to stderr with exit 2.
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() { 2 } else { 0 });
        }
    };
    match run(cli) {
        Ok(ExitStatus::Success) => ExitCode::SUCCESS,
        Ok(ExitStatus::ProblemFound) => ExitCode::from(1),
        Err(failure) => {
            eprintln!("error: {}", failure.error);
            for cause in failure.error.chain().skip(1) {
                eprintln!("  Caused by: {cause}");
            }
            if let Some(hint) = failure.hint {
                eprintln!("hint: {hint}");
            }
            ExitCode::from(2)
        }
    }
}
