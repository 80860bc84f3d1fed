//! The pipeline every environment job shares: the registry and plan options from the
//! flags, then discovery → scan → resolve → plan. The resolve step
//! ([`crate::registry::resolve`]) does the registry's I/O the scan calls for (a release
//! newer than every source learned, derived or re-pinned; the GenAI family learned), once;
//! the plan after it is pure.

use std::collections::HashSet;

use crate::diagnostics::Warning;
use crate::environment::{self, DiscoveryOptions, Environment};
use crate::error::Failure;
use crate::plan::{self, Plan, PlanOptions};
use crate::registry::{Registry, RegistrySource, ReleaseSource};
use crate::requirement::parse_version;
use crate::scan;
use crate::settings::Settings;

pub(crate) fn load_registry(path: Option<&std::path::Path>) -> Result<Registry, Failure> {
    if let Some(overlay) = path {
        if let Some(registry) = crate::overlay::load_if_overlay(overlay).map_err(|error| {
            Failure::with_hint(
                error,
                "an overlay is a JSON document with `\"overlay\": 1`, a `name`, an optional `releases` range and `add` / `replace` / `remove` lists of instrumentations (the README's \"Vendor overlays\" section shows one)",
            )
        })? {
            return Ok(registry);
        }
    }
    let user = crate::registry::user::user_registry_dir();
    match path {
        Some(path) => {
            let mut registry = Registry::from_path(path).map_err(|error| {
                Failure::with_hint(
                    error,
                    "`--registry` takes a release file or a directory of them, as `otel-bootstrap registry show --format json` prints one",
                )
            })?;
            registry.set_user_dir(user);
            Ok(registry)
        }
        None => Ok(Registry::standard(user.as_deref())),
    }
}

/// The registry and the options every job plans with, before the resolve step
/// ([`resolve`]) has seen the environment.
pub(crate) fn plan_inputs(args: &Settings) -> Result<(Registry, PlanOptions), Failure> {
    let mut registry = load_registry(args.target.registry.as_deref())?;
    let release = match &args.target.otel_version {
        Some(text) => Some(parse_version(text).ok_or_else(|| {
            Failure::with_hint(
                anyhow::anyhow!("`--otel-version {text}` is not a PEP 440 version"),
                "use a release such as `0.66b1`; `otel-bootstrap registry list` shows them",
            )
        })?),
        None => None,
    };
    let (genai, genai_warnings) = crate::registry::genai::GenAi::standard(registry.user_dir());
    registry.add_warnings(genai_warnings);
    let plan_options = PlanOptions {
        release,
        exclude: args.target.exclude.clone(),
        include: args.target.include.clone(),
        genai: Some(std::sync::Arc::new(genai)),
        python: None,
    };
    Ok((registry, plan_options))
}

/// Where the resolve step may learn from: the index, with `-a install` (unless `--offline`
/// or the installer is told to use no index) or with `--refresh`; else `None` (no network).
pub(crate) fn refresh_settings(
    args: &Settings,
) -> Option<crate::registry::refresh::RefreshSettings> {
    if args.refresh {
        Some(crate::registry::refresh::RefreshSettings::from_flag(
            args.install.index_url.as_deref(),
        ))
    } else if args.action == crate::settings::Action::Install && !args.offline {
        crate::registry::refresh::RefreshSettings::for_install(
            args.install.index_url.as_deref(),
            &args.install.installer_args,
        )
    } else {
        None
    }
}

/// The resolve step for what `installed` holds (the installed or locked
/// `opentelemetry-instrumentation` and GenAI family): the registry gets the release made
/// for it, if one must be, and `plan_options` the GenAI family learned, if it must be.
/// Once per run, before planning.
pub(crate) fn resolve(
    args: &Settings,
    registry: &mut Registry,
    plan_options: &mut PlanOptions,
    installed: &scan::Installed,
) {
    let refresh = refresh_settings(args);
    let requested = plan_options.release.clone();
    let request = crate::registry::resolve::Request::new(
        installed,
        requested.as_ref(),
        plan_options.genai.as_deref(),
        refresh.as_ref(),
    );
    crate::registry::resolve::resolve(registry, &mut plan_options.genai, &request);
}

/// What a job decides about a discovered environment.
pub(crate) struct EnvironmentPlan {
    pub(crate) discovery: DiscoveryOptions,
    pub(crate) environment: Environment,
    pub(crate) installed: scan::Installed,
    pub(crate) plan: Plan,
    /// The scan's warnings, then the plan's, then those about the options.
    pub(crate) warnings: Vec<Warning>,
    /// The one listing of the site-packages directories, for the graph when a job needs it.
    pub(crate) listing: scan::Listing,
}

/// Finds the environment, scans it, resolves and plans: the one pipeline behind
/// `-a requirements`, `-a install` and `--check`. `registry` and `plan_options` come back
/// resolved (what the resolve step made or learned is in them), for the job to report from.
pub(crate) fn plan_environment(
    args: &Settings,
    registry: &mut Registry,
    plan_options: &mut PlanOptions,
) -> Result<EnvironmentPlan, Failure> {
    let discovery = DiscoveryOptions::from_process(
        args.target.site_packages.clone(),
        args.target.python.clone(),
    )?
    .with_project(args.target.project.as_deref())
    .needing_interpreter(args.action == crate::settings::Action::Install);
    let environment = environment::find(&discovery)?;

    // One listing of each directory. The installed `opentelemetry-instrumentation` picks
    // the release, so it is read first (with the GenAI family), then what that release
    // looks at; if the plan lands on another release (a partial one aligned down), what
    // that one adds is read too. Only the folders those names point at are ever opened.
    let listing = scan::list(&environment.site_packages);
    let mut wanted = HashSet::from([plan::INSTRUMENTATION_PROJECT.to_owned()]);
    if let Some(genai) = &plan_options.genai {
        wanted.extend(genai.wanted_names());
    }
    let first = listing.read(&wanted);
    // All the I/O the registry needs, once; the plan below is pure.
    resolve(args, registry, plan_options, &first);
    let registry = &*registry;
    if let Some(genai) = &plan_options.genai {
        wanted.extend(genai.wanted_names());
    }
    // Where the release is free, it is one the environment's Python can install.
    let plan_options = &PlanOptions {
        python: environment
            .python_version
            .as_deref()
            .and_then(crate::registry::python_version),
        ..plan_options.clone()
    };
    let (target, _) = plan::choose_release(registry, &first, plan_options)?;
    plan::extend_wanted(&mut wanted, registry.load(&target)?);
    let mut installed = listing.read(&wanted);
    let mut plan = plan::plan(registry, &installed, plan_options)?;
    let used = registry.load(plan.release_version())?;
    let before = wanted.len();
    plan::extend_wanted(&mut wanted, used);
    if wanted.len() != before {
        installed = listing.read(&wanted);
        plan = plan::plan(registry, &installed, plan_options)?;
    }

    let mut warnings: Vec<Warning> = std::mem::take(&mut installed.warnings);
    warnings.extend(not_the_project_environment(&discovery, &environment));
    warnings.extend(plan.warnings.iter().cloned());
    warnings.extend(plan::unused_excludes(used, &plan_options.exclude));
    Ok(EnvironmentPlan {
        discovery,
        environment,
        installed,
        plan,
        warnings,
        listing,
    })
}

/// A warning when a project was found whose tool keeps its environment elsewhere than
/// the environment looked at (an activated venv, `--python`): its tool would not see it;
/// or when a pip-tools project has no `.venv` and the Python on `PATH` stands in for it.
fn not_the_project_environment(
    discovery: &DiscoveryOptions,
    environment: &Environment,
) -> Option<Warning> {
    use crate::diagnostics::WarningKind;
    use crate::project::location::Location;
    let (project, location) = discovery.project.as_ref()?;
    if environment.project.is_some() || project.tool == crate::project::Tool::Uv {
        return None;
    }
    let here = environment
        .prefix
        .as_deref()
        .or(environment.interpreter.as_deref())
        .map(|path| format!("`{}` (from {})", path.display(), environment.source))
        .unwrap_or_else(|| format!("the environment from {}", environment.source));
    let theirs = match location {
        Location::Found { prefix, .. } => format!("its environment is `{}`", prefix.display()),
        Location::Missing { .. } => format!(
            "its environment does not exist yet (`{}` creates it)",
            project.create_command_from(&discovery.current_dir)
        ),
        // A pip-tools project without a `.venv`: the Python on PATH stands in for it.
        Location::NotOwned
            if project.tool == crate::project::Tool::PipTools
                && environment.source == crate::environment::Source::PathInterpreter =>
        {
            return Some(Warning::new(
                WarningKind::NotTheProjectEnvironment,
                format!(
                    "{here} is not an environment of the pip-tools project `{}`, which has no `.venv`: make one (`python3 -m venv .venv`), then `pip-sync` keeps it to `requirements.txt` and otel-bootstrap finds it",
                    project.root.display(),
                ),
            ));
        }
        Location::NotOwned => return None,
    };
    Some(Warning::new(
        WarningKind::NotTheProjectEnvironment,
        format!(
            "{here} is not the environment of the {} project `{}`: {theirs}; {} installs into and runs from its own environment, so what is installed here is not what the project runs with",
            project.tool,
            project.root.display(),
            project.tool,
        ),
    ))
}

/// Where the plan's release came from, as `-v` and JSON (`registry.source`) name it:
/// `bundled`, `user:…`, `derived:…`, `index:…`, or the `--registry` path (an overlay's
/// included).
pub(crate) fn registry_source_text(registry: &Registry, plan: &Plan) -> String {
    let version = plan.release_version();
    match (registry.source(), registry.release_source(version)) {
        (RegistrySource::Path(path), None | Some(ReleaseSource::Bundled)) => {
            path.display().to_string()
        }
        _ => registry.source_text(version),
    }
}
