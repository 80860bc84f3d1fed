//! Turning parsed flags into work: the main job (scan and recommend) and the `registry`
//! subcommands. Errors carry an optional hint; `main` renders them.

use std::collections::HashSet;
use std::fmt;
use std::io::{self, Write};

use anyhow::Context as _;

use crate::cli::{Action, BootstrapArgs, Cli, Command, RegistryCommand};
use crate::diagnostics::Warning;
use crate::environment::{self, DiscoveryOptions, Environment};
use crate::output::{self, Format, RegistryReport, Report};
use crate::plan::{self, Plan, PlanOptions, Reason, SkipReason};
use crate::registry::{Kind, Registry, RegistrySource};
use crate::requirement::parse_version;
use crate::scan;

/// How much to say on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

/// How a successful run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Exit 0.
    Success,
    /// Exit 1: the run worked and found a problem (a failed check).
    ProblemFound,
}

/// An error to show the user: the error chain, and what to do about it.
#[derive(Debug)]
pub struct Failure {
    pub error: anyhow::Error,
    pub hint: Option<String>,
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(error: E) -> Self {
        let error = error.into();
        let hint = error
            .chain()
            .find_map(|cause| cause.downcast_ref::<environment::EnvironmentError>())
            .and_then(environment::EnvironmentError::hint)
            .or_else(|| {
                let lockfile = error.downcast_ref::<crate::lockfile::LockfileError>();
                lockfile.and_then(crate::lockfile::LockfileError::hint)
            });
        Self { error, hint }
    }
}

impl Failure {
    fn with_hint(error: impl Into<anyhow::Error>, hint: impl fmt::Display) -> Self {
        Self {
            error: error.into(),
            hint: Some(hint.to_string()),
        }
    }
}

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
        print_stdout(&format!(
            "otel-bootstrap {} (registry: {})\n",
            env!("CARGO_PKG_VERSION"),
            registry.describe_range().replace('`', "")
        ))?;
        return Ok(ExitStatus::Success);
    }
    match cli.command {
        Some(Command::Registry(command)) => run_registry(command, verbosity),
        Some(Command::Completions { shell }) => {
            write_stdout(&crate::completions::completion_script(shell))?;
            Ok(ExitStatus::Success)
        }
        Some(Command::Man) => {
            let page = crate::completions::man_page().context("cannot render the man page")?;
            write_stdout(&page)?;
            Ok(ExitStatus::Success)
        }
        None => run_bootstrap(&cli.bootstrap, verbosity),
    }
}

/// The prefix of a message on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    Error,
    Warning,
    Hint,
}

impl Label {
    fn text(self) -> &'static str {
        match self {
            Label::Error => "error",
            Label::Warning => "warning",
            Label::Hint => "hint",
        }
    }

    fn style(self) -> anstyle::Style {
        let color = match self {
            Label::Error => anstyle::AnsiColor::Red,
            Label::Warning => anstyle::AnsiColor::Yellow,
            Label::Hint => anstyle::AnsiColor::Cyan,
        };
        anstyle::Style::new().bold().fg_color(Some(color.into()))
    }
}

/// Prints `label: message` on stderr. The label is colored only when stderr is a terminal
/// and color is allowed (`--color`, see [`set_color`]; `NO_COLOR`, `CLICOLOR_FORCE`,
/// `TERM=dumb`); escape sequences are removed otherwise.
pub fn eprint_labelled(label: Label, message: impl fmt::Display) {
    let style = label.style();
    let _ = writeln!(
        anstream::stderr(),
        "{style}{}:{style:#} {message}",
        label.text()
    );
}

/// Applies `--color` to everything written through `anstream` (our labels, clap's help).
pub fn set_color(choice: clap::ColorChoice) {
    anstream::ColorChoice::write_global(match choice {
        clap::ColorChoice::Always => anstream::ColorChoice::Always,
        clap::ColorChoice::Never => anstream::ColorChoice::Never,
        clap::ColorChoice::Auto => anstream::ColorChoice::Auto,
    });
}

fn load_registry(path: Option<&std::path::Path>) -> Result<Registry, Failure> {
    match path {
        Some(path) => Registry::from_path(path).map_err(|error| {
            Failure::with_hint(error, "see data/README.md for the registry schema")
        }),
        None => Ok(Registry::bundled()),
    }
}

/// The registry and the options every job plans with.
pub(crate) fn plan_inputs(args: &BootstrapArgs) -> Result<(Registry, PlanOptions), Failure> {
    let registry = load_registry(args.registry.as_deref())?;
    let release = match &args.otel_version {
        Some(text) => Some(parse_version(text).ok_or_else(|| {
            Failure::with_hint(
                anyhow::anyhow!("`--otel-version {text}` is not a PEP 440 version"),
                "use a release such as `0.66b1`; `otel-bootstrap registry list` shows them",
            )
        })?),
        None => None,
    };
    let plan_options = PlanOptions {
        release,
        exclude: args.exclude.clone(),
        include: args.include.clone(),
    };
    Ok((registry, plan_options))
}

/// What a job decides about a discovered environment.
pub(crate) struct EnvironmentPlan {
    pub discovery: DiscoveryOptions,
    pub environment: Environment,
    pub installed: scan::Installed,
    pub plan: Plan,
    /// The scan's warnings, then the plan's, then those about the options.
    pub warnings: Vec<Warning>,
}

/// Finds the environment, scans it and plans: the one pipeline behind
/// `-a requirements`, `-a install` and `--check`.
pub(crate) fn plan_environment(
    args: &BootstrapArgs,
    registry: &Registry,
    plan_options: &PlanOptions,
) -> Result<EnvironmentPlan, Failure> {
    let discovery = DiscoveryOptions::from_process(args.site_packages.clone(), args.python.clone())
        .context("cannot read the current directory")?;
    let environment = environment::find(&discovery)?;

    // One listing of each directory. The installed `opentelemetry-instrumentation` picks
    // the release, so it is read alone first, then what that release looks at; if the plan
    // lands on another release (a partial one aligned down), what that one adds is read
    // too. Only the folders those names point at are ever opened.
    let listing = scan::list(&environment.site_packages);
    let mut wanted = HashSet::from([plan::INSTRUMENTATION_PROJECT.to_owned()]);
    let (target, _) = plan::choose_release(registry, &listing.read(&wanted), plan_options)?;
    plan::extend_wanted(&mut wanted, registry.load(&target)?);
    let mut installed = listing.read(&wanted);
    let mut plan = plan::plan(registry, &installed, plan_options)?;
    let used = registry.load(&plan.release_version()?)?;
    let before = wanted.len();
    plan::extend_wanted(&mut wanted, used);
    if wanted.len() != before {
        installed = listing.read(&wanted);
        plan = plan::plan(registry, &installed, plan_options)?;
    }

    let mut warnings: Vec<Warning> = std::mem::take(&mut installed.warnings);
    warnings.extend(plan.warnings.iter().cloned());
    for name in &plan_options.exclude {
        if used.find(name).is_none() {
            warnings.push(Warning::new(
                crate::diagnostics::WarningKind::UnusedOption,
                format!(
                    "`--exclude {name}`: release `{}` has no such instrumentation",
                    plan.release
                ),
            ));
        }
    }
    Ok(EnvironmentPlan {
        discovery,
        environment,
        installed,
        plan,
        warnings,
    })
}

fn run_bootstrap(args: &BootstrapArgs, verbosity: Verbosity) -> Result<ExitStatus, Failure> {
    if args.action == Action::Install {
        return crate::install::run(args, verbosity);
    }
    let (registry, plan_options) = plan_inputs(args)?;
    if !args.from.is_empty() {
        let show_warnings = verbosity >= Verbosity::Normal;
        let verbose = verbosity == Verbosity::Verbose;
        return Ok(crate::lockfile::run::run(
            args,
            &registry,
            &plan_options,
            show_warnings,
            verbose,
        )?);
    }
    let EnvironmentPlan {
        discovery,
        environment,
        installed,
        plan,
        warnings,
    } = plan_environment(args, &registry, &plan_options)?;
    let used = registry.load(&plan.release_version()?)?;

    if verbosity == Verbosity::Verbose {
        explain(&environment, &registry, &plan, installed.len());
    }
    if verbosity >= Verbosity::Normal && args.format == Format::Text {
        for warning in &warnings {
            eprint_labelled(Label::Warning, warning);
        }
    }

    if args.check {
        let report = crate::check::check(
            &plan,
            used,
            &installed,
            &args.exclude,
            crate::check::Subject::Environment,
        );
        let installer = crate::check::Installer::detect(&discovery.current_dir);
        return Ok(crate::check::report(
            &report,
            installer,
            crate::check::Subject::Environment,
            args.format,
            &warnings,
            verbosity >= Verbosity::Normal,
        )?);
    }

    let mut stdout = io::stdout().lock();
    let written = match args.format {
        Format::Text => output::write_requirements(&plan, &mut stdout),
        Format::Json => {
            let report = Report {
                version: output::JSON_VERSION,
                tool: concat!("otel-bootstrap ", env!("CARGO_PKG_VERSION")),
                environment: &environment,
                registry: RegistryReport {
                    source: registry_source_text(&registry),
                    release: &plan.release,
                    choice: &plan.release_choice,
                    alignment: &plan.alignment,
                },
                recommendations: &plan.recommendations,
                skipped: &plan.skipped,
                warnings: &warnings,
            };
            output::write_json(&report, &mut stdout)
        }
    };
    finish_write(written)?;
    Ok(ExitStatus::Success)
}

fn registry_source_text(registry: &Registry) -> String {
    match registry.source() {
        RegistrySource::Bundled => "bundled".to_owned(),
        RegistrySource::Path(path) => path.display().to_string(),
    }
}

/// `-v`: where things were found and why each instrumentation is in or out.
fn explain(environment: &Environment, registry: &Registry, plan: &Plan, found: usize) {
    eprintln!("environment: from {}", environment.source);
    if let Some(interpreter) = &environment.interpreter {
        eprintln!("  interpreter: {}", interpreter.display());
    }
    for directory in &environment.site_packages {
        eprintln!("  site-packages: {}", directory.display());
    }
    eprintln!("  {found} distribution(s) of interest found");
    eprintln!(
        "registry: {} release `{}` ({})",
        registry_source_text(registry),
        plan.release,
        match &plan.release_choice {
            plan::ReleaseChoice::Requested => "from --otel-version".to_owned(),
            plan::ReleaseChoice::Installed =>
                "the installed opentelemetry-instrumentation".to_owned(),
            plan::ReleaseChoice::NewerThanRegistry { installed } =>
                format!("installed {installed} is newer than the registry"),
            plan::ReleaseChoice::NearestBelow { installed } =>
                format!("the newest release below the installed {installed}"),
            plan::ReleaseChoice::NewestComplete =>
                "no opentelemetry-instrumentation installed: the newest complete release".to_owned(),
        }
    );
    for recommendation in &plan.recommendations {
        let why = match &recommendation.reason {
            Reason::Default => "a default instrumentation".to_owned(),
            Reason::Libraries { satisfied_by } | Reason::Included { satisfied_by } => {
                let found: Vec<String> = satisfied_by
                    .iter()
                    .map(|library| {
                        format!(
                            "{} {} satisfies `{}`",
                            library.name, library.version, library.requirement
                        )
                    })
                    .collect();
                if found.is_empty() {
                    "included with --include".to_owned()
                } else {
                    found.join(", ")
                }
            }
        };
        eprintln!("  + {}: {why}", recommendation.requirement);
    }
    for skipped in &plan.skipped {
        let reasons: Vec<String> = skipped
            .reasons
            .iter()
            .map(|reason| match reason {
                SkipReason::OutOfRange {
                    library,
                    installed,
                    requirement,
                } => {
                    format!("{library} {installed} is outside `{requirement}`")
                }
                SkipReason::InvalidVersion { library, installed } => {
                    format!("{library} {installed} is not a PEP 440 version")
                }
                SkipReason::MissingLibrary {
                    library,
                    requirement,
                } => {
                    format!("needs {library} (`{requirement}`), which is not installed")
                }
                SkipReason::Excluded => "excluded with --exclude".to_owned(),
                SkipReason::OptIn => "opt-in: recommend it with --include".to_owned(),
                SkipReason::NeverPublished => "never published at any release".to_owned(),
            })
            .collect();
        eprintln!("  - {}: {}", skipped.requirement, reasons.join("; "));
    }
}

fn run_registry(command: RegistryCommand, verbosity: Verbosity) -> Result<ExitStatus, Failure> {
    match command {
        RegistryCommand::List { registry } => {
            let registry = load_registry(registry.as_deref())?;
            let mut text = String::new();
            for version in registry.versions().rev() {
                let release = registry.load(version)?;
                let counted = |kind| {
                    release
                        .instrumentations
                        .iter()
                        .filter(|entry| entry.kind == kind)
                        .count()
                };
                let unpublished = release
                    .instrumentations
                    .iter()
                    .filter(|entry| entry.kind != Kind::OptIn && !entry.published)
                    .count();
                let status = if unpublished > 0 {
                    format!("  partial: {unpublished} not published")
                } else {
                    String::new()
                };
                text.push_str(&format!(
                    "{:<10} {:>2} default, {:>2} library, {:>2} opt-in{status}\n",
                    release.raw_version,
                    counted(Kind::Default),
                    counted(Kind::Library),
                    counted(Kind::OptIn)
                ));
            }
            print_stdout(&text)?;
            Ok(ExitStatus::Success)
        }
        RegistryCommand::Show {
            release,
            registry,
            format,
        } => {
            let registry = load_registry(registry.as_deref())?;
            let version = match release {
                Some(text) => {
                    parse_version(&text).ok_or_else(|| registry.unknown_release(&text))?
                }
                None => registry
                    .versions()
                    .next_back()
                    .cloned()
                    .ok_or_else(|| anyhow::anyhow!("the registry is empty"))?,
            };
            let release = registry.load(&version)?;
            let text = match format {
                Format::Json => show_json(release)?,
                Format::Text => show_table(release),
            };
            print_stdout(&text)?;
            Ok(ExitStatus::Success)
        }
        RegistryCommand::Update {
            index_url,
            output,
            from_release,
            cache_dir,
        } => {
            let index_url = index_url
                .or_else(|| {
                    std::env::var("UV_INDEX_URL")
                        .ok()
                        .filter(|url| !url.is_empty())
                })
                .or_else(|| {
                    std::env::var("PIP_INDEX_URL")
                        .ok()
                        .filter(|url| !url.is_empty())
                })
                .unwrap_or_else(|| "https://pypi.org/simple/".to_owned());
            let options = crate::registry::generate::GenerateOptions {
                index_url,
                output_dir: output,
                minimum_release: from_release,
                cache_dir,
                progress: verbosity >= Verbosity::Normal,
            };
            let report = crate::registry::generate::generate(&options)?;
            if verbosity >= Verbosity::Normal {
                eprintln!("{report}");
            }
            Ok(ExitStatus::Success)
        }
    }
}

fn show_table(release: &crate::registry::Release) -> String {
    let mut text = format!(
        "release {}{}\n",
        release.raw_version,
        if release.is_partial() {
            " (partial)"
        } else {
            ""
        }
    );
    let width = release
        .instrumentations
        .iter()
        .map(|entry| entry.requirement.raw.len())
        .max()
        .unwrap_or(0);
    for entry in &release.instrumentations {
        let kind = match entry.kind {
            Kind::Default => "default",
            Kind::Library => "library",
            Kind::OptIn => "opt-in",
        };
        let mut libraries: Vec<String> = entry
            .instruments
            .iter()
            .map(|requirement| requirement.raw.clone())
            .collect();
        if !entry.instruments_any.is_empty() {
            let any: Vec<&str> = entry
                .instruments_any
                .iter()
                .map(|requirement| requirement.raw.as_str())
                .collect();
            libraries.push(format!("any of ({})", any.join(" | ")));
        }
        text.push_str(&format!(
            "{:<width$}  {:<7}  {:<13}  {}\n",
            entry.requirement.raw,
            kind,
            if entry.published {
                "published"
            } else {
                "not published"
            },
            libraries.join(" + ")
        ));
    }
    text
}

fn show_json(release: &crate::registry::Release) -> anyhow::Result<String> {
    let entries: Vec<serde_json::Value> = release
        .instrumentations
        .iter()
        .map(|entry| {
            serde_json::json!({
                "name": entry.name.to_string(),
                "requirement": entry.requirement.raw,
                "kind": entry.kind,
                "published": entry.published,
                "instruments": entry.instruments.iter().map(|requirement| &requirement.raw).collect::<Vec<_>>(),
                "instruments_any": entry.instruments_any.iter().map(|requirement| &requirement.raw).collect::<Vec<_>>(),
            })
        })
        .collect();
    let document = serde_json::json!({
        "release": release.raw_version,
        "partial": release.is_partial(),
        "instrumentations": entries,
    });
    Ok(serde_json::to_string_pretty(&document)? + "\n")
}

fn print_stdout(text: &str) -> Result<(), Failure> {
    write_stdout(text.as_bytes())
}

fn write_stdout(bytes: &[u8]) -> Result<(), Failure> {
    let mut stdout = io::stdout().lock();
    finish_write(stdout.write_all(bytes).and_then(|()| stdout.flush()))
}

/// A closed stdout (`otel-bootstrap | head -1`) is a clean end, not an error.
fn finish_write(result: io::Result<()>) -> Result<(), Failure> {
    Ok(output::finish_stdout(result)?)
}
