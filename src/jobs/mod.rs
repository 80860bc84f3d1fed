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

pub(crate) mod explain;
pub(crate) mod from_lockfile;
pub(crate) mod install;
pub(crate) mod pipeline;
pub(crate) mod recommend;
pub(crate) mod registry;

use anyhow::Context as _;

use crate::error::{ExitStatus, Failure};
use crate::printer::{write_stdout, Printer};
use crate::registry::Registry;
use crate::settings::{Job, Run};

/// Runs the resolved command line.
pub fn run(run: Run) -> Result<ExitStatus, Failure> {
    let Run { verbosity, job } = run;
    match job {
        Job::Version => {
            let registry = Registry::bundled();
            write_stdout(
                format!(
                    "otel-bootstrap {} (registry: {})\n",
                    env!("CARGO_PKG_VERSION"),
                    registry.describe_range().replace('`', "")
                )
                .as_bytes(),
            )?;
            Ok(ExitStatus::Success)
        }
        Job::Registry(command) => registry::run(command, Printer::new(verbosity, false)),
        Job::Completions(shell) => {
            write_stdout(&crate::completions::completion_script(shell))?;
            Ok(ExitStatus::Success)
        }
        Job::Man => {
            let page = crate::completions::man_page().context("cannot render the man page")?;
            write_stdout(&page)?;
            Ok(ExitStatus::Success)
        }
        Job::Explain(explain) => {
            let printer = Printer::new(verbosity, explain.format == crate::output::Format::Json);
            explain::run(&explain, printer)
        }
        Job::Main(settings) => {
            let printer = Printer::new(verbosity, settings.format == crate::output::Format::Json);
            recommend::run(&settings, printer)
        }
    }
}
