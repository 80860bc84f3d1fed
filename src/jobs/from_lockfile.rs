//! The `--from` job: choose the marker target, read the files, plan, then print the
//! requirements, the JSON document or the `--check` result.
//!
//! The environment is optional here: when one is discoverable its interpreter gives the
//! marker values; a failure to find one is not an error unless `--python` or
//! `--site-packages` named it.

use std::io::{self, Write};
use std::path::PathBuf;

use serde::Serialize;

use crate::check::{self, FixTool, Subject};
use crate::diagnostics::{Warning, WarningKind};
use crate::environment::{self, DiscoveryOptions, Environment};
use crate::error::ExitStatus;
use crate::lockfile::marker::{self, MarkerTarget, MarkerValues, TargetSource};
use crate::lockfile::{FileFormat, Loaded};
use crate::output::{self, Format, RegistryReport};
use crate::plan::{self, Plan, PlanOptions};
use crate::printer::Printer;
use crate::registry::Registry;
use crate::settings::Settings;

/// The `--format json` document of a `--from` run: the environment's document with
/// `sources` (the files and the marker target) and an optional `environment`.
#[derive(Debug, Serialize)]
pub(crate) struct LockfileReport<'a> {
    pub(crate) version: u32,
    pub(crate) tool: &'static str,
    pub(crate) sources: Sources<'a>,
    /// The discovered environment whose interpreter gave the markers, if any.
    pub(crate) environment: Option<&'a Environment>,
    pub(crate) registry: RegistryReport<'a>,
    pub(crate) recommendations: &'a [plan::Recommendation],
    pub(crate) skipped: &'a [plan::Skipped],
    pub(crate) warnings: &'a [Warning],
}

/// The files read and what their markers were evaluated against.
#[derive(Debug, Serialize)]
pub(crate) struct Sources<'a> {
    pub(crate) files: Vec<SourceFile>,
    pub(crate) target: &'a TargetSource,
    pub(crate) markers: Option<&'a MarkerValues>,
}

#[derive(Debug, Serialize)]
pub(crate) struct SourceFile {
    pub(crate) path: PathBuf,
    pub(crate) format: FileFormat,
}

/// Everything a `--from` run decided, before output: what `-a install` needs too (the
/// plan, and the environment to install into when one was discovered).
#[derive(Debug)]
pub(crate) struct LockfileInputs {
    pub(crate) environment: Option<Environment>,
    pub(crate) target: MarkerTarget,
    pub(crate) loaded: Loaded,
    pub(crate) installed: crate::scan::Installed,
    pub(crate) plan: Plan,
    /// The files' notes, the plan's warnings and unused `--exclude` values.
    pub(crate) warnings: Vec<Warning>,
    /// The project's tool for the fix commands: from the lock read (`uv add`,
    /// `poetry add`, `pdm add`, `pipenv install`, requirements-file edits), else `uv add`
    /// in a uv project, else `pip install`.
    pub(crate) installer: FixTool,
}

/// Finds the optional environment and the marker target, reads the files and plans.
/// Notes about the target go to stderr unless `-q`.
pub(crate) fn prepare(
    args: &Settings,
    registry: &mut Registry,
    plan_options: &mut PlanOptions,
    printer: Printer,
) -> anyhow::Result<LockfileInputs> {
    let named_by_flag = args.target.python.is_some() || !args.target.site_packages.is_empty();
    // A deleted working directory stops only what needs it: absolute `--from` paths with
    // no `--python` / `--site-packages` still work.
    let discovery = match DiscoveryOptions::from_process(
        args.target.site_packages.clone(),
        args.target.python.clone(),
    ) {
        Ok(discovery) => Some(discovery),
        Err(error) if named_by_flag => {
            return Err(anyhow::Error::new(error)
                .context("cannot read the current directory (was it deleted?)"))
        }
        Err(_) => None,
    };
    // `--python-version` with `--platform` say everything the markers need: no
    // environment is looked for and no Python is started.
    let flags_suffice = args.python_version.is_some() && args.platform.is_some();
    let environment = match &discovery {
        Some(discovery) if !flags_suffice || named_by_flag => match environment::find(discovery) {
            Ok(environment) => Some(environment),
            Err(error) if named_by_flag => return Err(error.into()),
            Err(_) => None,
        },
        _ => None,
    };
    let interpreter = if flags_suffice {
        None
    } else {
        environment
            .as_ref()
            .and_then(|environment| environment.interpreter.clone())
            .or_else(marker::python_on_path)
    };

    let mut notes = Vec::new();
    let target = marker::choose_target(
        interpreter.as_deref(),
        args.python_version.as_deref(),
        args.platform,
        &mut notes,
    )
    .map_err(anyhow::Error::msg)?;
    if target.source == TargetSource::Everything {
        notes.push(
            "no Python interpreter found and no `--python-version` / `--platform`: every environment marker counts as true"
                .to_owned(),
        );
    }
    for note in &notes {
        printer.note(note);
    }

    let mut paths = Vec::with_capacity(args.from.len());
    for from in &args.from {
        // Which file `--from DIR` read is a detail: `-v` names every file read.
        let (path, _found) = crate::lockfile::resolve_from(from)?;
        paths.push(path);
    }
    let selection = args.selection.clone();
    let loaded = crate::lockfile::load(&paths, &selection, &target)?;
    let installed = loaded.installed();
    // The registry's I/O for what the lock holds, once; the plan is pure.
    super::pipeline::resolve(args, registry, plan_options, &installed);
    let registry = &*registry;
    let plan_options = PlanOptions {
        python: marker::plan_python(&target, loaded.requires_python.as_deref())
            .and_then(|text| crate::registry::python_version(&text)),
        ..plan_options.clone()
    };
    let plan = plan::plan(registry, &installed, &plan_options)?;
    let release = registry.load(plan.release_version())?;

    // The project's tool, from the first file whose format names one; else the
    // directory's (a uv project) or pip.
    let installer = loaded
        .files
        .iter()
        .find_map(|(path, format)| FixTool::for_lockfile(*format, path, &selection))
        .unwrap_or_else(|| {
            discovery.as_ref().map_or(FixTool::Pip, |discovery| {
                FixTool::detect(&discovery.current_dir)
            })
        });
    let mut warnings: Vec<Warning> = loaded
        .notes
        .iter()
        .map(|note| Warning::new(WarningKind::Unreadable, note.to_string()))
        .collect();
    for path in &loaded.maybe_partial {
        warnings.push(Warning::new(
            WarningKind::MaybeIncomplete,
            format!(
                "`{0}` may list only the application's direct dependencies (it has no `# via` comments or hashes and is not `pip freeze` output), and the libraries they bring in are not seen; for every instrumentation, read a complete pin list: `uv pip compile {1} -o requirements.lock`, then `--from requirements.lock`",
                path.display(),
                crate::redact::quote(&path.display().to_string())
            ),
        ));
    }
    warnings.extend(lockfile_warnings(&plan, &installed, &installer));
    warnings.extend(plan::unused_excludes(release, &plan_options.exclude));
    Ok(LockfileInputs {
        environment,
        target,
        loaded,
        installed,
        plan,
        warnings,
        installer,
    })
}

/// The plan's warnings, with its out-of-range ones rewritten for a lock file: one only for
/// an instrumentation that would otherwise be recommended (none of the libraries it needs
/// all of is missing), saying where the library "is locked at" instead of "installed".
/// (`pydantic==1.6.2` alone says nothing about tortoiseorm, which needs tortoise-orm too.)
/// Without the SDK, the fix is said in the project's words (`-a install --with-distro`
/// does not go with `--from`).
fn lockfile_warnings(
    plan: &Plan,
    installed: &crate::scan::Installed,
    installer: &FixTool,
) -> Vec<Warning> {
    let mut warnings: Vec<Warning> = plan
        .warnings
        .iter()
        .filter(|warning| warning.kind != WarningKind::OutOfRange)
        .map(|warning| match warning.kind {
            WarningKind::NoTelemetry => no_sdk_in_the_lock(installer),
            _ => warning.clone(),
        })
        .collect();
    for skipped in &plan.skipped {
        warnings.extend(plan::out_of_range_warnings(skipped, |library, version| {
            let location = crate::requirement::parse_name(library)
                .and_then(|name| installed.get(&name))
                .map(|distribution| format!(" ({})", distribution.path.display()))
                .unwrap_or_default();
            format!("`{library}` is locked at {version}{location}")
        }));
    }
    warnings
}

/// The lock holds no SDK: what `opentelemetry-instrument` would do, and the command that
/// adds the distro and the OTLP exporter to the project.
fn no_sdk_in_the_lock(installer: &FixTool) -> Warning {
    const PACKAGES: [&str; 2] = ["opentelemetry-distro", "opentelemetry-exporter-otlp"];
    let named = "`opentelemetry-distro` and an exporter (`opentelemetry-exporter-otlp`)";
    // A command is shown as one; a requirements file is edited.
    let fix = match installer {
        FixTool::PipTools { input, .. } => {
            format!("add {named} to `{input}`, then `pip-compile {input}`")
        }
        FixTool::Requirements { file } => format!("add {named} to `{file}`"),
        _ if !installer.is_command() => installer.install_command(&PACKAGES).unwrap_or_default(),
        _ => format!(
            "add {named}: `{}`",
            installer.install_command(&PACKAGES).unwrap_or_default()
        ),
    };
    crate::plan::no_telemetry(&fix)
}

/// Runs the main job from `args.from`: requirements, JSON or `--check`.
pub(crate) fn run(
    args: &Settings,
    registry: &mut Registry,
    plan_options: &mut PlanOptions,
    printer: Printer,
) -> anyhow::Result<ExitStatus> {
    let LockfileInputs {
        environment,
        target,
        loaded,
        installed,
        plan,
        warnings,
        installer,
    } = prepare(args, registry, plan_options, printer)?;
    let (registry, plan_options) = (&*registry, &*plan_options);
    if printer.is_verbose() {
        explain(&loaded, &target, &plan, printer);
    }
    for warning in &warnings {
        printer.warn(warning);
    }

    if args.check {
        let release = registry.load(plan.release_version())?;
        let report = check::check(
            &plan,
            release,
            &installed,
            &plan_options.exclude,
            Subject::Lockfile,
        );
        return check::report(
            &report,
            &installer,
            Subject::Lockfile,
            args.format,
            &warnings,
            printer,
        )
        .map(ExitStatus::from_passed);
    }

    let mut stdout = io::stdout().lock();
    let written = match args.format {
        Format::Text => output::write_requirements(&plan, &mut stdout),
        Format::Json => {
            let report = LockfileReport {
                version: output::JSON_VERSION,
                tool: crate::output::TOOL,
                sources: Sources {
                    files: loaded
                        .files
                        .iter()
                        .map(|(path, format)| SourceFile {
                            path: path.clone(),
                            format: *format,
                        })
                        .collect(),
                    target: &target.source,
                    markers: target.values.as_ref(),
                },
                environment: environment.as_ref(),
                registry: RegistryReport {
                    source: super::pipeline::registry_source_text(registry, &plan),
                    release: &plan.release,
                    choice: &plan.release_choice,
                    alignment: &plan.alignment,
                },
                recommendations: &plan.recommendations,
                skipped: &plan.skipped,
                warnings: &warnings,
            };
            serde_json::to_writer_pretty(&mut stdout, &report)
                .map_err(io::Error::from)
                .and_then(|()| writeln!(stdout))
                .and_then(|()| stdout.flush())
        }
    };
    crate::printer::finish_stdout(written)?;
    Ok(ExitStatus::Success)
}

/// `-v`: the files, the marker target and why each instrumentation is in.
fn explain(loaded: &Loaded, target: &MarkerTarget, plan: &Plan, printer: Printer) {
    for (path, format) in &loaded.files {
        printer.detail(&format!("from: {} ({})", path.display(), format.label()));
    }
    printer.detail(&format!("  markers: {}", target.describe()));
    printer.detail(&format!(
        "  {} package{} installed per the files",
        loaded.packages.len(),
        if loaded.packages.len() == 1 { "" } else { "s" }
    ));
    match &plan.release_choice {
        // Why not the newest release: the target's Python (issue #24).
        plan::ReleaseChoice::NewestForPython { .. } => printer.detail(&format!(
            "registry: release `{}` ({})",
            plan.release,
            plan.release_choice.describe()
        )),
        _ => printer.detail(&format!("registry: release `{}`", plan.release)),
    }
    // What the one-line partial-release warning leaves to `-v`.
    if let Some(alignment) = &plan.alignment {
        for line in alignment.details() {
            printer.detail(&line);
        }
    }
    for recommendation in &plan.recommendations {
        printer.detail(&format!(
            "  + {}: {}",
            recommendation.requirement,
            recommendation.reason.explain(true)
        ));
    }
}
