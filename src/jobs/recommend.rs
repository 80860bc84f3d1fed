//! The main job: recommendations for the discovered environment (`-a requirements`, text
//! or JSON, `--only-needed`) and `--check` on it. `--from` goes to
//! [`super::from_lockfile`], `-a install` to [`super::install`].

use std::io;

use crate::environment::Environment;
use crate::error::{ExitStatus, Failure};
use crate::output::{self, Format, RegistryReport, Report};
use crate::plan::Plan;
use crate::printer::Printer;
use crate::registry::Registry;
use crate::settings::{Action, Settings};

use super::pipeline::{plan_environment, plan_inputs, registry_source_text, EnvironmentPlan};

pub(crate) fn run(args: &Settings, printer: Printer) -> Result<ExitStatus, Failure> {
    if args.action == Action::Install {
        return super::install::run(args, printer);
    }
    let (mut registry, mut plan_options) = plan_inputs(args)?;
    if !args.from.is_empty() {
        return Ok(super::from_lockfile::run(
            args,
            &mut registry,
            &mut plan_options,
            printer,
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
    let warnings = environment_warnings(warnings, &args.target);
    let used = registry.load(plan.release_version())?;

    if printer.is_verbose() {
        explain(&environment, &registry, &plan, installed.len(), printer);
    }
    for warning in &warnings {
        printer.warn(warning);
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
            if let Some(warning) = load_check(&environment, &plan, &mut report, printer) {
                printer.warn(&warning);
                warnings.push(warning);
            }
        }
        let installer = fix_tool(&args.target, &environment, &discovery.current_dir, &graph);
        let notes = if printer.shows_warnings() {
            crate::explain::advice::check_notes(
                &registry,
                &installed,
                &report,
                plan.python.as_ref(),
                printer.is_verbose(),
                &args.target.repeated(true),
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
            printer,
        )?;
        // Information only: never changes the exit status.
        for line in notes.lines() {
            printer.line(line);
        }
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
        for line in crate::explain::leave_out_unneeded(&mut plan, &mut relevance) {
            printer.detail(&line);
        }
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
    printer: Printer,
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
            if loads.remembered {
                printer.detail(&format!(
                    "load check: {} instrumentor{} loaded, {} did not (remembered: the environment has not changed since they were loaded)",
                    loads.loaded,
                    if loads.loaded == 1 { "" } else { "s" },
                    loads.failures.len()
                ));
            }
            crate::check::check_loads(report, plan, &loads);
            None
        }
        Err(reason) => Some(not_run(format!("`{}`: {reason}", interpreter.display()))),
    }
}

/// `-v`: where things were found and why each instrumentation is in or out.
fn explain(
    environment: &Environment,
    registry: &Registry,
    plan: &Plan,
    found: usize,
    printer: Printer,
) {
    printer.detail(&format!("environment: from {}", environment.source));
    if let Some(project) = &environment.project {
        printer.detail(&format!("  project: {}", project.describe()));
    }
    if let Some(interpreter) = &environment.interpreter {
        printer.detail(&format!("  interpreter: {}", interpreter.display()));
    }
    for directory in &environment.site_packages {
        printer.detail(&format!("  site-packages: {}", directory.display()));
    }
    printer.detail(&format!(
        "  {found} distribution{} of interest found",
        if found == 1 { "" } else { "s" }
    ));
    printer.detail(&format!(
        "registry: {} release `{}` ({})",
        registry_source_text(registry, plan),
        plan.release,
        plan.release_choice.describe()
    ));
    if let Some(alignment) = &plan.alignment {
        for line in alignment.details() {
            printer.detail(&format!("  {line}"));
        }
    }
    for recommendation in &plan.recommendations {
        printer.detail(&format!(
            "  + {}: {}",
            recommendation.requirement,
            recommendation.reason.explain(false)
        ));
        if let Some(choice) = &recommendation.genai {
            printer.detail(&format!(
                "    GenAI family, {}: {}",
                choice.version, choice.why
            ));
        }
    }
    for skipped in &plan.skipped {
        let reasons: Vec<String> = skipped
            .reasons
            .iter()
            .map(|reason| reason.describe("installed"))
            .collect();
        printer.detail(&format!(
            "  - {}: {}",
            skipped.requirement,
            reasons.join("; ")
        ));
    }
}

/// Which tool a fix for `environment` is written for. The environment's own project
/// (found the way its tool finds it) speaks first; then the project around the current
/// directory, for an environment found from there or one named (`--python`,
/// `--site-packages`) that lives inside that project. Any other named environment is
/// fixed with its own interpreter's pip (`uv pip` without pip).
pub(super) fn fix_tool(
    target: &crate::settings::Target,
    environment: &crate::environment::Environment,
    current_dir: &std::path::Path,
    graph: &crate::graph::Graph,
) -> crate::check::FixTool {
    use crate::check::FixTool;
    let named = target.python.is_some() || !target.site_packages.is_empty();
    // Site-packages named alone: the interpreter of the venv they belong to, if any.
    let interpreter = environment.interpreter.clone().or_else(|| {
        let [directory] = target.site_packages.as_slice() else {
            return None;
        };
        crate::environment::site_packages_owner(directory).map(|(_, interpreter)| interpreter)
    });
    let has_pip = graph.get_str("pip").is_some();
    if environment.project.is_none() {
        if let Some(project) = crate::project::detect(current_dir) {
            // A named environment is the project's only when it lives in the project; the
            // Python on PATH is never a pip-tools project's (`pip-sync` would make it the
            // project's alone).
            let root = std::fs::canonicalize(&project.root).unwrap_or(project.root.clone());
            let inside = |path: &std::path::Path| {
                std::fs::canonicalize(path).is_ok_and(|path| path.starts_with(&root))
            };
            let stand_in = project.tool == crate::project::Tool::PipTools
                && environment.source == crate::environment::Source::PathInterpreter;
            let belongs = !(named || stand_in)
                || environment.prefix.as_deref().is_some_and(inside)
                || (!environment.site_packages.is_empty()
                    && environment.site_packages.iter().all(|path| inside(path)));
            if belongs {
                return FixTool::for_environment(Some(&project), interpreter.as_deref(), has_pip);
            }
        }
    }
    let tool = FixTool::for_environment(
        environment.project.as_ref(),
        interpreter.as_deref(),
        has_pip,
    );
    // The instrumentations are where `-a install` records them: where the project keeps
    // `opentelemetry-distro`.
    let Some(project) = environment.project.as_ref() else {
        return tool;
    };
    let manifest = crate::project::manifest::Manifest::read(
        &project.root,
        project.tool == crate::project::Tool::Pipenv,
    );
    use crate::check::Destination;
    use crate::install::installer::Place;
    match manifest.place_of("opentelemetry-distro") {
        Some(Place::Group(group)) => tool.into(Destination::Group(group)),
        Some(Place::Extra(extra)) => tool.into(Destination::Extra(extra)),
        _ => tool,
    }
}

/// The plan's warnings for an environment, with the "no SDK" one's fix made for this
/// environment: `-a install --with-distro` with the flags that named it, or, for
/// site-packages without an interpreter (which `-a install` cannot take), what to install.
pub(super) fn environment_warnings(
    mut warnings: Vec<crate::diagnostics::Warning>,
    target: &crate::settings::Target,
) -> Vec<crate::diagnostics::Warning> {
    for warning in &mut warnings {
        if warning.kind != crate::diagnostics::WarningKind::NoTelemetry {
            continue;
        }
        let command = target.command("-a install --with-distro");
        let fix = if command.contains("--site-packages") {
            "install `opentelemetry-distro` and an exporter (`opentelemetry-exporter-otlp`) into the environment those site-packages belong to".to_owned()
        } else {
            format!("add `opentelemetry-distro` and an exporter: `{command}`")
        };
        *warning = crate::plan::no_telemetry(&fix);
    }
    warnings
}
