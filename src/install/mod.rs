//! `-a install`: installs the plan in one installer run, then checks the result natively.
//!
//! The plan is built as for `-a requirements` (same release choice, same partial-release
//! alignment). Its requirements, and the core packages an alignment moves, go to **one**
//! installer invocation: both pip and uv resolve everything before they change anything,
//! so a failure leaves the environment as it was. Nothing runs when everything planned is
//! already installed and its requirements are met.
//!
//! The installer (`--installer auto`, see [`installer::select`]):
//! - the environment of a uv project (a `pyproject.toml` with a `uv.lock` beside it, from
//!   the current directory up): `uv add`, so that `uv sync` keeps the packages
//!   (`--no-project`: `uv pip install`);
//! - an environment created by uv, or without pip: `uv pip install --python <interpreter>`;
//! - otherwise uv when it is on `PATH`, else `<interpreter> -m pip install -U
//!   --upgrade-strategy only-if-needed` (upstream's strategy).
//!
//! Exit status: 0 installed (or nothing to do); 1 the requirements cannot be satisfied
//! from the index, or a conflict remains after installing; 2 an error (no installer, an
//! externally managed interpreter, an unreachable index, any other installer failure).
//! Stdout stays empty except with `--dry-run`, where the command is the data.

pub mod installer;
pub mod process;
pub mod redact;
pub mod verify;

use std::collections::HashSet;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context as _};
use pep508_rs::MarkerEnvironment;

use crate::cli::{BootstrapArgs, InstallerChoice};
use crate::commands::{self, ExitStatus, Failure, Verbosity};
use crate::diagnostics::Warning;
use crate::environment::Environment;
use crate::output::Format;
use crate::plan::Plan;
use crate::requirement::{normalize, PlainRequirement};
use crate::scan;

use installer::{
    find_uv, find_uv_project, IndexSettings, InstallCommand, Installer, SelectionInputs,
};
use process::{Display, FailureKind};
use redact::redact;

/// Runs `-a install`.
pub fn run(args: &BootstrapArgs, verbosity: Verbosity) -> Result<ExitStatus, Failure> {
    refuse_other_modes(args)?;
    let say = |message: &str| {
        if verbosity >= Verbosity::Normal {
            eprintln!("{}", redact(message));
        }
    };
    let detail = |message: &str| {
        if verbosity == Verbosity::Verbose {
            eprintln!("{}", redact(message));
        }
    };

    let prepared = prepare(args)?;
    if verbosity >= Verbosity::Normal {
        for warning in &prepared.warnings {
            commands::eprint_labelled(commands::Label::Warning, redact(&warning.to_string()));
        }
    }
    let Prepared {
        environment,
        plan,
        current_dir,
        ..
    } = prepared;
    let interpreter = environment.interpreter.clone().ok_or_else(|| Failure {
        error: anyhow!("`-a install` needs the environment's interpreter, and `--site-packages` names only directories"),
        hint: Some("name the environment with `--python <venv or interpreter>` instead".to_owned()),
    })?;
    let where_text = environment
        .prefix
        .as_deref()
        .unwrap_or(&interpreter)
        .display()
        .to_string();
    detail(&format!(
        "environment: {where_text} (interpreter {}, from {})",
        interpreter.display(),
        environment.source
    ));

    let targets = targets(&plan)?;
    if targets.is_empty() {
        say(&format!(
            "Nothing to install: release `{}` recommends no instrumentation for this environment",
            plan.release
        ));
        return Ok(ExitStatus::Success);
    }
    let requirements: Vec<String> = targets.iter().map(|target| target.raw.clone()).collect();

    let (mut markers, before) = check_lazily(
        &targets,
        &environment.site_packages,
        None,
        &interpreter,
        &detail,
    );

    let path_variable = std::env::var_os("PATH");
    let uv = find_uv(path_variable.as_deref(), environment.prefix.as_deref());
    let project = find_uv_project(
        &current_dir,
        std::env::var_os("UV_PROJECT_ENVIRONMENT").as_deref(),
    );
    let has_pip = has_pip(&environment);
    let inputs = SelectionInputs {
        choice: args.install.installer,
        no_project: args.install.no_project,
        prefix: environment.prefix.as_deref(),
        created_by_uv: environment.created_by_uv,
        has_pip,
        uv: uv.as_deref(),
        project: project.as_ref(),
    };
    let selection = installer::select(&inputs);

    let recorded = match &selection {
        Ok(selection) => match &selection.installer {
            Installer::UvAdd { project } => project_lists(project, &targets),
            _ => true,
        },
        Err(_) => true,
    };
    if before.is_empty() && recorded {
        say(&format!(
            "Nothing to install: the {} package{} planned for release `{}` {} installed and {} requirements are met",
            targets.len(),
            plural(targets.len()),
            plan.release,
            if targets.len() == 1 { "is" } else { "are" },
            if targets.len() == 1 { "its" } else { "their" },
        ));
        return Ok(ExitStatus::Success);
    }
    for conflict in &before {
        detail(&format!("to do: {conflict}"));
    }

    let selection = selection.map_err(|error| Failure {
        hint: Some(error.hint()),
        error: error.into(),
    })?;
    detail(&format!(
        "installer: {} ({})",
        selection.installer.label(),
        selection.reason
    ));
    if selection.installer == Installer::Pip {
        if let Some(project) = project.as_ref() {
            if args.install.installer == InstallerChoice::Pip
                && same_directory(environment.prefix.as_deref(), &project.environment)
            {
                say(&format!(
                    "warning: `{}` is the environment of the uv project `{}`: `uv sync` removes what pip installs there; `--installer uv` records the packages with `uv add`",
                    where_text,
                    project.root.display()
                ));
            }
        }
    }

    let flags = IndexSettings {
        index_url: args.install.index_url.clone(),
        extra_index_urls: args.install.extra_index_url.clone(),
        find_links: args.install.find_links.clone(),
        no_index: false,
    };
    let index =
        IndexSettings::resolve(flags, &selection.installer, |name| std::env::var(name).ok());
    let command = InstallCommand::build(
        &selection.installer,
        &interpreter,
        uv.as_deref(),
        &index,
        &args.install.installer_args,
        &requirements,
    )
    .ok_or_else(|| anyhow!("internal: uv was chosen but not found"))?;

    if let Some(alignment) = &plan.alignment {
        if !alignment.core_moves.is_empty() {
            say(&format!(
                "Release `{}` is partial: installing release `{}` instead, which moves core packages in the same transaction: {}",
                alignment.from_release,
                plan.release,
                alignment.describe_core_moves()
            ));
        }
    }
    let verb = if args.install.dry_run {
        "Would install"
    } else {
        "Installing"
    };
    say(&format!(
        "{verb} {} package{} (release `{}`) with {} into {where_text}",
        requirements.len(),
        plural(requirements.len()),
        plan.release,
        selection.installer.label(),
    ));
    detail(&format!("running: {command}"));

    if args.install.dry_run {
        print_stdout(&format!("{command}\n"))?;
        return Ok(ExitStatus::Success);
    }

    let display = Display::choose(
        verbosity == Verbosity::Quiet,
        verbosity == Verbosity::Verbose,
    );
    let outcome = process::run(&command, display, requirements.len()).map_err(|error| {
        let program = command.program.display().to_string();
        Failure {
            error: anyhow!(error).context(format!("cannot run `{program}`")),
            hint: None,
        }
    })?;

    if process::interrupted() {
        return Err(Failure {
            error: anyhow!(
                "interrupted: `{}` was asked to stop and exited with {}; the environment is as it left it",
                command.program.display(),
                outcome.status
            ),
            hint: Some("run the same command again to finish the installation".to_owned()),
        });
    }
    if !outcome.status.success() {
        if display != Display::Stream {
            for line in &outcome.lines {
                eprintln!("{}", redact(line));
            }
        }
        return failed(&selection.installer, &outcome);
    }

    let (_, after) = check_lazily(
        &targets,
        &environment.site_packages,
        markers.take(),
        &interpreter,
        &detail,
    );
    if !after.is_empty() {
        for conflict in &after {
            eprintln!("conflict: {}", redact(&conflict.to_string()));
        }
        let packages: HashSet<&str> = after.iter().map(verify::Conflict::package).collect();
        eprintln!(
            "error: {} ran, but {} conflict{} remain{} (in {} package{}); see above",
            selection.installer.label(),
            after.len(),
            plural(after.len()),
            if after.len() == 1 { "s" } else { "" },
            packages.len(),
            plural(packages.len()),
        );
        return Ok(ExitStatus::ProblemFound);
    }
    let changed = process::installed_packages(&outcome.lines);
    let seconds = outcome.elapsed.as_secs_f64();
    if changed.is_empty() {
        say(&format!(
            "Done in {seconds:.2}s: {} changed nothing; every planned package is installed",
            selection.installer.label()
        ));
    } else {
        say(&format!(
            "Installed {} package{} in {seconds:.2}s",
            changed.len(),
            plural(changed.len()),
        ));
        for package in &changed {
            say(&format!(" + {package}"));
        }
    }
    Ok(ExitStatus::Success)
}

/// [`verify::check`], asking the interpreter for its marker environment only when needed.
/// Without one every requirement counts (stricter), so a clean result holds as it is; the
/// interpreter (about 20 ms) is asked only when a conflict is about a dependency, which a
/// marker might make irrelevant here. Returns the marker environment, if asked.
fn check_lazily(
    targets: &[PlainRequirement],
    site_packages: &[PathBuf],
    markers: Option<MarkerEnvironment>,
    interpreter: &Path,
    detail: &impl Fn(&str),
) -> (Option<MarkerEnvironment>, Vec<verify::Conflict>) {
    let conflicts = verify::check(targets, site_packages, markers.as_ref());
    let about_dependencies = conflicts
        .iter()
        .any(|conflict| matches!(conflict, verify::Conflict::Dependency { .. }));
    if markers.is_some() || !about_dependencies {
        return (markers, conflicts);
    }
    match verify::marker_environment(interpreter) {
        Ok(markers) => {
            let conflicts = verify::check(targets, site_packages, Some(&markers));
            (Some(markers), conflicts)
        }
        Err(reason) => {
            detail(&format!("cannot read the marker environment ({reason}); requirements with environment markers are assumed to apply"));
            (None, conflicts)
        }
    }
}

/// `-a install` works on an environment and prints no data.
fn refuse_other_modes(args: &BootstrapArgs) -> Result<(), Failure> {
    let refuse = |what: &str, hint: &str| {
        Err(Failure {
            error: anyhow!("`-a install` cannot be combined with {what}"),
            hint: Some(hint.to_owned()),
        })
    };
    if !args.from.is_empty() {
        return refuse(
            "`--from`: it installs into an environment, not a lock file",
            "to install what a lock file needs, print the requirements (`otel-bootstrap --from <file>`) and add them with your project tool (`| uv add -r -`)",
        );
    }
    if args.check {
        return refuse("`--check`", "run `otel-bootstrap --check` after installing");
    }
    if args.format == Format::Json {
        return refuse(
            "`--format json`: installing prints no data",
            "use `--dry-run` to see the command, or `-a requirements --format json` for the plan",
        );
    }
    Ok(())
}

/// What the planning needs and yields.
struct Prepared {
    environment: Environment,
    plan: Plan,
    warnings: Vec<Warning>,
    current_dir: PathBuf,
}

/// Builds the plan exactly as `-a requirements` does: the same pipeline.
fn prepare(args: &BootstrapArgs) -> Result<Prepared, Failure> {
    let (registry, plan_options) = commands::plan_inputs(args)?;
    let planned = commands::plan_environment(args, &registry, &plan_options)?;
    Ok(Prepared {
        environment: planned.environment,
        plan: planned.plan,
        warnings: planned.warnings,
        current_dir: planned.discovery.current_dir,
    })
}

/// The requirements to install: the recommendations, then the core packages that move.
fn targets(plan: &Plan) -> Result<Vec<PlainRequirement>, Failure> {
    let core = plan
        .alignment
        .iter()
        .flat_map(|alignment| alignment.core_moves.iter())
        .map(|core| core.requirement.as_str());
    let mut seen = HashSet::new();
    plan.recommendations
        .iter()
        .map(|recommendation| recommendation.requirement.as_str())
        .chain(core)
        .filter(|text| seen.insert(*text))
        .map(|text| {
            PlainRequirement::parse(text)
                .with_context(|| format!("internal: the plan holds `{text}`"))
                .map_err(Failure::from)
        })
        .collect()
}

/// Whether pip is installed where the environment's interpreter sees it.
fn has_pip(environment: &Environment) -> bool {
    let wanted: HashSet<String> = std::iter::once("pip".to_owned()).collect();
    let found = scan::scan(&environment.site_packages, &wanted);
    !found.is_empty()
}

/// Whether `pyproject.toml` in `project` lists every target in `project.dependencies`.
fn project_lists(project: &Path, targets: &[PlainRequirement]) -> bool {
    let Ok(text) = std::fs::read_to_string(project.join("pyproject.toml")) else {
        return false;
    };
    let Ok(document) = text.parse::<toml::Table>() else {
        return false;
    };
    let listed: HashSet<String> = document
        .get("project")
        .and_then(|project| project.get("dependencies"))
        .and_then(|dependencies| dependencies.as_array())
        .into_iter()
        .flatten()
        .filter_map(|dependency| dependency.as_str())
        .map(|dependency| {
            let end = dependency
                .find(|character: char| {
                    !(character.is_ascii_alphanumeric() || matches!(character, '-' | '_' | '.'))
                })
                .unwrap_or(dependency.len());
            normalize(&dependency[..end])
        })
        .collect();
    targets
        .iter()
        .all(|target| listed.contains(target.name.as_ref()))
}

fn same_directory(left: Option<&Path>, right: &Path) -> bool {
    let Some(left) = left else {
        return false;
    };
    matches!(
        (std::fs::canonicalize(left), std::fs::canonicalize(right)),
        (Ok(left), Ok(right)) if left == right
    )
}

/// The installer exited non-zero: say what failed and why, in one line.
fn failed(installer: &Installer, outcome: &process::Outcome) -> Result<ExitStatus, Failure> {
    let (kind, reason) = process::diagnose(&outcome.lines);
    let code = outcome
        .status
        .code()
        .map(|code| format!("exit status {code}"))
        .unwrap_or_else(|| "killed by a signal".to_owned());
    let reason = reason.unwrap_or_else(|| format!("it ended with {code}"));
    let label = installer.label();
    match kind {
        FailureKind::ExternallyManaged => Err(Failure {
            error: anyhow!("{label} refused: the interpreter is externally managed (PEP 668): {reason}"),
            hint: Some("install into a virtual environment (`python3 -m venv .venv`, or `uv venv`) and pass it with `--python`, or, if you mean it, pass `-- --break-system-packages` to the installer".to_owned()),
        }),
        FailureKind::Network => Err(Failure {
            error: anyhow!("{label} could not reach the package index: {reason}"),
            hint: Some("check the network and the index settings (`--index-url`, `PIP_INDEX_URL`, `UV_INDEX_URL`)".to_owned()),
        }),
        FailureKind::Unsatisfiable => {
            eprintln!(
                "error: {label} found no way to install the plan (nothing was changed): {reason}"
            );
            eprintln!("hint: check that the index has these versions (`--index-url`), or leave an instrumentation out with `--exclude`");
            Ok(ExitStatus::ProblemFound)
        }
        FailureKind::Other => Err(Failure {
            error: anyhow!("{label} failed ({code}): {reason}"),
            hint: None,
        }),
    }
}

fn plural(count: usize) -> &'static str {
    if count == 1 {
        ""
    } else {
        "s"
    }
}

/// Writes the data (`--dry-run`'s command) on stdout; a closed stdout is a clean end.
fn print_stdout(text: &str) -> Result<(), Failure> {
    let mut stdout = io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other
            .context("cannot write to stdout")
            .map_err(Failure::from),
    }
}
