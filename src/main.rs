//! The `otel-bootstrap` binary: parse, run, render errors. Exit codes: 0 success,
//! 1 a problem was found, 2 an error.

use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _};
use otel_bootstrap::cli::{color_from_args, Cli};
use otel_bootstrap::error::ExitStatus;
use otel_bootstrap::jobs::run;
use otel_bootstrap::printer::{eprint_labelled, set_color, Label};

fn main() -> ExitCode {
    // `--color` must be known before parsing: clap renders help and usage errors itself.
    let color = color_from_args(std::env::args_os());
    set_color(color);
    let mut command = Cli::command().color(color);
    let parsed = command
        .try_get_matches_from_mut(std::env::args_os())
        .and_then(|matches| {
            Cli::from_arg_matches(&matches).map_err(|error| error.format(&mut command))
        });
    let cli = match parsed {
        Ok(cli) => cli,
        Err(error) => {
            // `--help` goes to stdout with exit 0; usage errors to stderr with exit 2.
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() { 2 } else { 0 });
        }
    };
    let result = otel_bootstrap::settings::resolve(cli).and_then(run);
    match result {
        Ok(ExitStatus::Success) => ExitCode::SUCCESS,
        Ok(ExitStatus::ProblemFound) => ExitCode::from(1),
        Ok(ExitStatus::Interrupted(code)) => ExitCode::from(u8::try_from(code).unwrap_or(130)),
        Err(failure) => {
            eprint_labelled(Label::Error, &failure.error);
            for cause in failure.error.chain().skip(1) {
                otel_bootstrap::eprint_line!("  Caused by: {cause}");
            }
            if let Some(hint) = failure.hint {
                eprint_labelled(Label::Hint, hint);
            }
            ExitCode::from(2)
        }
    }
}
