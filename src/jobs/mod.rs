//! The jobs: the top layer, which nothing imports. Each turns resolved flags into work
//! over the layers below (discovery, scan, registry, plan, graph, install, lockfile) and
//! returns how it ended; `main` renders errors and exit codes.
//!
//! - [`recommend`]: the main job, `-a requirements` and `--check` on an environment;
//! - [`install`]: `-a install`;
//! - [`from_lockfile`]: `--from FILE` (requirements and `--check`);
//! - [`explain`]: `otel-bootstrap explain`;
//! - [`registry`]: `otel-bootstrap registry list|show|update`;
//! - [`pipeline`]: the discovery → scan → plan pipeline they share.

pub mod explain;
pub mod from_lockfile;
pub mod install;
pub mod pipeline;
pub mod recommend;
pub mod registry;

use anyhow::Context as _;

use crate::cli::{Cli, Command};
use crate::error::{ExitStatus, Failure};
use crate::printer::{write_stdout, Printer, Verbosity};
use crate::registry::Registry;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<ExitStatus, Failure> {
    let verbosity = if cli.quiet {
        Verbosity::Quiet
    } else if cli.verbose {
        Verbosity::Verbose
    } else {
        Verbosity::Normal
    };
    if cli.version {
        let registry = Registry::bundled();
        write_stdout(
            format!(
                "otel-bootstrap {} (registry: {})\n",
                env!("CARGO_PKG_VERSION"),
                registry.describe_range().replace('`', "")
            )
            .as_bytes(),
        )?;
        return Ok(ExitStatus::Success);
    }
    match cli.command {
        Some(Command::Registry(command)) => registry::run(command, verbosity),
        Some(Command::Completions { shell }) => {
            write_stdout(&crate::completions::completion_script(shell))?;
            Ok(ExitStatus::Success)
        }
        Some(Command::Man) => {
            let page = crate::completions::man_page().context("cannot render the man page")?;
            write_stdout(&page)?;
            Ok(ExitStatus::Success)
        }
        Some(Command::Explain(args)) => {
            let printer = Printer::new(verbosity, args.format == crate::output::Format::Json);
            explain::run(&args, printer)
        }
        None => recommend::run(
            &cli.bootstrap,
            Printer::new(
                verbosity,
                cli.bootstrap.format == crate::output::Format::Json,
            ),
        ),
    }
}
