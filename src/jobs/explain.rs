//! `otel-bootstrap explain`: the plan as a table a person reads (see [`crate::explain`]).

use std::io::{self, Write as _};

use crate::explain::*;
use crate::registry::Registry;

/// Runs `otel-bootstrap explain`.
pub(crate) fn run(
    args: &crate::settings::Explain,
    printer: crate::printer::Printer,
) -> Result<crate::error::ExitStatus, crate::error::Failure> {
    let bootstrap = crate::settings::Settings::for_explain(args);
    let (mut registry, mut options) = super::pipeline::plan_inputs(&bootstrap)?;
    let planned = super::pipeline::plan_environment(&bootstrap, &mut registry, &mut options)?;
    let release = registry.load(planned.plan.release_version())?;
    let graph = crate::install::verify::environment_graph(&planned.environment, &planned.listing);
    let warnings = super::recommend::environment_warnings(planned.warnings.clone(), &args.target);
    let covers = Covers::bundled();
    let installer = super::recommend::fix_tool(
        &args.target,
        &planned.environment,
        &planned.discovery.current_dir,
        &graph,
    );
    let explanation = explain(&Inputs {
        registry: &registry,
        release,
        plan: &planned.plan,
        installed: &planned.installed,
        graph: &graph,
        options: &options,
        covers: &covers,
        installer,
        only_needed: args.only_needed,
        rerun: &args.target.repeated(true),
    });
    for warning in &warnings {
        printer.warn(warning);
    }
    // What the one-line partial-release warning leaves to `-v`.
    if printer.shows_warnings() {
        if let Some(alignment) = &planned.plan.alignment {
            for line in alignment.details() {
                printer.detail(&line);
            }
        }
    }
    let written = match args.format {
        crate::output::Format::Json => {
            let document = Document {
                version: crate::output::JSON_VERSION,
                tool: crate::output::TOOL,
                environment: &planned.environment,
                registry: crate::output::RegistryReport {
                    source: super::pipeline::registry_source_text(&registry, &planned.plan),
                    release: &planned.plan.release,
                    choice: &planned.plan.release_choice,
                    alignment: &planned.plan.alignment,
                },
                explanation: &explanation,
                warnings: &warnings,
            };
            write_json(&document, &mut io::stdout().lock())
        }
        crate::output::Format::Text => {
            let heading = heading(&planned, &registry);
            let text = table::render(&explanation, &heading, table::width_from_env());
            let mut stdout = anstream::stdout().lock();
            stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
        }
    };
    crate::printer::finish_stdout(written)?;
    Ok(crate::error::ExitStatus::Success)
}

/// `Release 0.66b1 (the installed opentelemetry-instrumentation); environment from …`, or
/// for a partial release `Release 0.66b1, because 0.66b2 (…) is partial: …`.
fn heading(planned: &crate::jobs::pipeline::EnvironmentPlan, registry: &Registry) -> String {
    let plan = &planned.plan;
    let why = plan.release_choice.describe();
    let registry_text = match registry.source() {
        crate::registry::RegistrySource::Bundled => String::new(),
        crate::registry::RegistrySource::Path(path) => format!(" from {}", path.display()),
    };
    // With a partial release the reason belongs to the release that was replaced.
    let mut text = match &plan.alignment {
        None => format!("Release {}{registry_text} ({why})", plan.release),
        Some(alignment) => {
            let count = alignment.unpublished.len();
            format!(
                "Release {}{registry_text}, because {} ({why}) is partial: {count} recommended package{} unpublished there",
                plan.release,
                alignment.from_release,
                if count == 1 { " is" } else { "s are" }
            )
        }
    };
    text.push_str(&format!(
        "; environment from {}",
        planned.environment.source
    ));
    text
}
