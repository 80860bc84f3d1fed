//! The main job: recommendations for the discovered environment (`-a requirements`, text
//! or JSON, `--only-needed`) and `--check` on it. `--from` goes to
//! [`super::from_lockfile`], `-a install` to [`super::install`].

use std::io;

use crate::cli::{Action, BootstrapArgs};
use crate::environment::Environment;
use crate::error::{ExitStatus, Failure};
use crate::output::{self, Format, RegistryReport, Report};
use crate::plan::Plan;
use crate::printer::{eprint_labelled, Label, Verbosity};
use crate::registry::Registry;

use super::pipeline::{plan_environment, plan_inputs, registry_source_text, EnvironmentPlan};

pub fn run(args: &BootstrapArgs, verbosity: Verbosity) -> Result<ExitStatus, Failure> {
    if args.action == Action::Install {
        if args.only_needed {
            return Err(Failure::with_hint(
                anyhow::anyhow!("`--only-needed` works with `-a requirements`, not `-a install`"),
                "pipe the needed ones to the installer: `otel-bootstrap --only-needed | uv add -r -` (or `pip install -r /dev/stdin`)",
            ));
        }
        return super::install::run(args, verbosity);
    }
    let (mut registry, mut plan_options) = plan_inputs(args)?;
    if !args.from.is_empty() {
        let show_warnings = verbosity >= Verbosity::Normal;
        let verbose = verbosity == Verbosity::Verbose;
        return Ok(super::from_lockfile::run(
            args,
            &mut registry,
            &mut plan_options,
            show_warnings,
            verbose,
        )?);
    }
    let EnvironmentPlan {
        discovery,
        environment,
        installed,
        mut plan,
        warnings,
        listing,
    } = plan_environment(args, &mut registry, &mut plan_options)?;
    let used = registry.load(plan.release_version())?;

    if verbosity == Verbosity::Verbose {
        explain(&environment, &registry, &plan, installed.len());
    }
    if verbosity >= Verbosity::Normal && args.format == Format::Text {
        for warning in &warnings {
            eprint_labelled(Label::Warning, warning);
        }
    }

    if args.check {
        let mut report = crate::check::check(
            &plan,
            used,
            &installed,
            &args.target.exclude,
            crate::check::Subject::Environment,
        );
        let graph = crate::install::verify::environment_graph(&environment, &listing);
        crate::check::check_graph(&mut report, &plan, &graph);
        let mut warnings = warnings;
        if !args.no_load_check {
            if let Some(warning) = load_check(&environment, &plan, &mut report) {
                if verbosity >= Verbosity::Normal && args.format == Format::Text {
                    eprint_labelled(Label::Warning, &warning);
                }
                warnings.push(warning);
            }
        }
        // The environment's own project (found the way its tool finds it) speaks first;
        // else the project around the directory.
        let installer = match environment.project.as_ref() {
            Some(project) => crate::check::FixTool::for_project(Some(project)),
            None => crate::check::FixTool::detect(&discovery.current_dir),
        };
        let notes = if args.format == Format::Text && verbosity >= Verbosity::Normal {
            crate::explain::advice::check_notes(
                &registry,
                &installed,
                &report,
                plan.python.as_ref(),
                verbosity == Verbosity::Verbose,
            )
        } else {
            String::new()
        };
        let passed = crate::check::report(
            &report,
            &installer,
            crate::check::Subject::Environment,
            args.format,
            &warnings,
            verbosity >= Verbosity::Normal,
        )?;
        // Information only: never changes the exit status.
        crate::eprint_text!("{notes}");
        return Ok(ExitStatus::from_passed(passed));
    }

    // Relevance needs the dependency graph: read only for JSON and `--only-needed`.
    let mut relevance = if args.format == Format::Json || args.only_needed {
        let graph = crate::install::verify::environment_graph(&environment, &listing);
        crate::explain::relevance::relevance(
            &plan,
            &graph,
            &crate::explain::relevance::Covers::bundled(),
        )
    } else {
        Vec::new()
    };
    if args.only_needed {
        crate::explain::leave_out_unneeded(
            &mut plan,
            &mut relevance,
            verbosity == Verbosity::Verbose,
        );
    }

    let mut stdout = io::stdout().lock();
    let written = match args.format {
        Format::Text => output::write_requirements(&plan, &mut stdout),
        Format::Json => {
            let report = Report {
                version: output::JSON_VERSION,
                tool: crate::output::TOOL,
                environment: &environment,
                registry: RegistryReport {
                    source: registry_source_text(&registry, &plan),
                    release: &plan.release,
                    choice: &plan.release_choice,
                    alignment: &plan.alignment,
                },
                recommendations: output::with_relevance(&plan.recommendations, &relevance),
                skipped: &plan.skipped,
                warnings: &warnings,
            };
            output::write_json(&report, &mut stdout)
        }
    };
    crate::printer::finish_stdout(written)?;
    Ok(ExitStatus::Success)
}

/// The load check for `--check`: its failures become problems; when it cannot run (no
/// interpreter, no answer), a warning says so and the check goes on without it.
fn load_check(
    environment: &Environment,
    plan: &Plan,
    report: &mut crate::check::CheckReport,
) -> Option<crate::diagnostics::Warning> {
    let not_run = |reason: String| {
        crate::diagnostics::Warning::new(
            crate::diagnostics::WarningKind::LoadCheck,
            format!("the instrumentors were not loaded: {reason}"),
        )
    };
    // `--site-packages` names directories only: there is nothing to load them with
    // (README: the load check needs the environment's interpreter).
    let interpreter = environment.interpreter.as_ref()?;
    match crate::install::load_check::load_instrumentors(interpreter) {
        Ok(loads) => {
            crate::check::check_loads(report, plan, &loads);
            None
        }
        Err(reason) => Some(not_run(format!("`{}`: {reason}", interpreter.display()))),
    }
}

/// `-v`: where things were found and why each instrumentation is in or out.
fn explain(environment: &Environment, registry: &Registry, plan: &Plan, found: usize) {
    crate::eprint_line!("environment: from {}", environment.source);
    if let Some(project) = &environment.project {
        crate::eprint_line!("  project: {}", project.describe());
    }
    if let Some(interpreter) = &environment.interpreter {
        crate::eprint_line!("  interpreter: {}", interpreter.display());
    }
    for directory in &environment.site_packages {
        crate::eprint_line!("  site-packages: {}", directory.display());
    }
    crate::eprint_line!("  {found} distribution(s) of interest found");
    crate::eprint_line!(
        "registry: {} release `{}` ({})",
        registry_source_text(registry, plan),
        plan.release,
        plan.release_choice.describe()
    );
    if let Some(alignment) = &plan.alignment {
        for line in alignment.details() {
            crate::eprint_line!("  {line}");
        }
    }
    for recommendation in &plan.recommendations {
        crate::eprint_line!(
            "  + {}: {}",
            recommendation.requirement,
            recommendation.reason.explain(false)
        );
        if let Some(choice) = &recommendation.genai {
            crate::eprint_line!("    GenAI family, {}: {}", choice.version, choice.why);
        }
    }
    for skipped in &plan.skipped {
        let reasons: Vec<String> = skipped
            .reasons
            .iter()
            .map(|reason| reason.describe("installed"))
            .collect();
        crate::eprint_line!("  - {}: {}", skipped.requirement, reasons.join("; "));
    }
}
