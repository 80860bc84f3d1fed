//! The plan: a pure function of (registry, installed distributions, options) to the
//! recommended instrumentations, each with its reason, and the instrumentations left out,
//! each with why. No I/O happens here: the registry it is given was resolved first
//! (`registry::resolve`: a release newer than every source learned, derived or re-pinned;
//! the GenAI family learned), and nothing it calls reads a file or the network.
//!
//! Semantics, from each instrumentation wheel's metadata (what the instrumentors check at
//! run time): every `instruments` requirement must be installed within range, and when
//! `instruments-any` is not empty at least one of those must be. Default instrumentations
//! are always recommended. Each instrumentation is recommended at most once, in registry
//! (upstream) order: defaults first, then the others.

use std::collections::HashSet;

use crate::requirement::Version;

use crate::diagnostics::{Warning, WarningKind};
use crate::registry::genai::{Admitted, Core, GenAi};
use crate::registry::{python_label, Instrumentation, Kind, Registry, RegistryError, Release};
use crate::requirement::PlainRequirement;
use crate::scan::Installed;

/// The project whose installed version picks the registry release.
pub(crate) use crate::registry::INSTRUMENTATION_PROJECT;

/// Without this project (which `opentelemetry-distro` brings), instrumentations record
/// into the API's no-op provider: nothing is ever exported.
pub(crate) const SDK_PROJECT: &str = "opentelemetry-sdk";

/// What the user asked for, beyond the environment.
#[derive(Debug, Clone, Default)]
pub(crate) struct PlanOptions {
    /// `--otel-version`: use this release instead of the installed one.
    pub(crate) release: Option<Version>,
    /// `--exclude`: names (`flask` or the full project name) never to recommend.
    pub(crate) exclude: Vec<String>,
    /// `--include`: opt-in instrumentations to recommend.
    pub(crate) include: Vec<String>,
    /// The GenAI family ([`crate::registry::genai`]); without it the plan is the release's
    /// alone.
    pub(crate) genai: Option<std::sync::Arc<GenAi>>,
    /// The target's Python (`3.9`, or `3.9.18`), when known: a release whose packages it
    /// cannot install is never chosen where the choice is free, and never accepted from
    /// `--otel-version`; the GenAI packages' `Requires-Python` is checked against it too.
    pub(crate) python: Option<Version>,
}

/// A library that satisfied a requirement of an instrumentation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct SatisfiedBy {
    /// The requirement from the registry (`flask>=1.0`).
    pub(crate) requirement: String,
    pub(crate) name: String,
    pub(crate) version: String,
    /// Where it is installed (or which lockfile entry).
    pub(crate) location: String,
}

/// Why an instrumentation is recommended.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub(crate) enum Reason {
    /// A default instrumentation: always recommended.
    Default,
    /// Its libraries are installed within range.
    Libraries { satisfied_by: Vec<SatisfiedBy> },
    /// Asked for with `--include`.
    Included { satisfied_by: Vec<SatisfiedBy> },
}

/// One recommended instrumentation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Recommendation {
    pub(crate) name: String,
    /// The requirement line, exactly as printed.
    pub(crate) requirement: String,
    /// The same requirement, parsed (from the registry).
    #[serde(skip)]
    pub(crate) parsed: PlainRequirement,
    pub(crate) reason: Reason,
    /// For a GenAI family package: which version and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) genai: Option<GenAiChoice>,
}

/// Why a GenAI family package is recommended at its version.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct GenAiChoice {
    pub(crate) version: String,
    /// `the newest version whose core requirements admit release 0.66b1, …`.
    pub(crate) why: String,
    /// The contrib instrumentation it replaces, when it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) replaces: Option<String>,
}

/// Why an instrumentation whose library is present is not recommended.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub(crate) enum SkipReason {
    /// The library is installed, but not at a version the instrumentation supports.
    OutOfRange {
        library: String,
        installed: String,
        requirement: String,
    },
    /// The library's installed version is not a PEP 440 version.
    InvalidVersion { library: String, installed: String },
    /// Some of the libraries it needs all of are installed, this one is not.
    MissingLibrary {
        library: String,
        requirement: String,
    },
    /// Removed with `--exclude`.
    Excluded,
    /// Left out of bootstrap upstream; `--include` recommends it.
    OptIn,
    /// Listed by the release but never published at any release in the registry (upstream
    /// 0.49b0 lists `opentelemetry-instrumentation-test`, a package that does not exist).
    NeverPublished,
    /// Another instrumentation of the same library wins (the "one instrumentation per
    /// library" table, `data/genai/choices.json`).
    Replaced { by: String, reason: String },
    /// A GenAI family package whose libraries are installed, but no version of which goes
    /// with the environment's core (release, API, Python) without moving it.
    NoCompatibleVersion { reason: String },
    /// Its own `Requires-Python` leaves out the target's Python.
    UnsupportedPython {
        requires_python: String,
        python: String,
    },
}

impl Reason {
    /// Why, in a few words, for `--check`: `flask 3.0.0 is installed`.
    pub(crate) fn summary(&self, verb: &str) -> String {
        match self {
            Reason::Default => "a default instrumentation".to_owned(),
            Reason::Libraries { satisfied_by } | Reason::Included { satisfied_by } => {
                if satisfied_by.is_empty() {
                    return "asked for with --include".to_owned();
                }
                let found: Vec<String> = satisfied_by
                    .iter()
                    .map(|library| format!("{} {}", library.name, library.version))
                    .collect();
                let noun = if found.len() == 1 { "is" } else { "are" };
                format!("{} {noun} {verb}", found.join(", "))
            }
        }
    }

    /// Why, in one line, for `-v`: `flask 3.0.0 satisfies `flask>=1.0``; with
    /// `locations`, where each library was found (a lockfile's `requirements.txt:11`).
    pub(crate) fn explain(&self, locations: bool) -> String {
        match self {
            Reason::Default => "a default instrumentation".to_owned(),
            Reason::Libraries { satisfied_by } | Reason::Included { satisfied_by } => {
                if satisfied_by.is_empty() {
                    return "asked for with --include".to_owned();
                }
                let found: Vec<String> = satisfied_by
                    .iter()
                    .map(|library| {
                        let location = if locations {
                            format!(" ({})", library.location)
                        } else {
                            String::new()
                        };
                        format!(
                            "{} {}{location} satisfies `{}`",
                            library.name, library.version, library.requirement
                        )
                    })
                    .collect();
                found.join(", ")
            }
        }
    }
}

impl SkipReason {
    /// The one wording of each reason (`-v`, `--check`, the report); `verb` is
    /// `installed` or `locked`.
    pub(crate) fn describe(&self, verb: &str) -> String {
        match self {
            SkipReason::OutOfRange {
                library,
                installed,
                requirement,
            } => format!("{library} {installed} is outside `{requirement}`"),
            SkipReason::InvalidVersion { library, installed } => {
                format!("{library} {installed} is not a PEP 440 version")
            }
            SkipReason::MissingLibrary {
                library,
                requirement,
            } => format!("it also needs {library} (`{requirement}`), which is not {verb}"),
            SkipReason::Excluded => "excluded with --exclude".to_owned(),
            SkipReason::OptIn => "opt-in: recommend it with --include".to_owned(),
            SkipReason::NeverPublished => "never published at any release".to_owned(),
            SkipReason::Replaced { by, reason } => format!("{by} is recommended instead: {reason}"),
            SkipReason::NoCompatibleVersion { reason } => {
                format!("no version goes with this environment without moving its core ({reason})")
            }
            SkipReason::UnsupportedPython {
                requires_python,
                python,
            } => format!("it needs Python `{requires_python}`, the target runs Python {python}"),
        }
    }
}

/// An instrumentation left out, with every reason.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Skipped {
    pub(crate) name: String,
    pub(crate) requirement: String,
    pub(crate) reasons: Vec<SkipReason>,
}

/// How the release was chosen.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub(crate) enum ReleaseChoice {
    /// `--otel-version`.
    Requested,
    /// The installed `opentelemetry-instrumentation`.
    Installed,
    /// The installed `opentelemetry-instrumentation` is newer than any bundled release.
    NewerThanRegistry { installed: String },
    /// The installed version is not in the registry; the newest release below it is used.
    NearestBelow { installed: String },
    /// Nothing installed: the newest release whose packages were all published.
    NewestComplete,
    /// Nothing installed: the newest complete release the target's Python can install;
    /// newer complete releases need another Python (`newer` names the newest of them and
    /// `requires_python` its range).
    NewestForPython {
        python: String,
        newer: String,
        requires_python: String,
    },
}

impl ReleaseChoice {
    /// Why the release was chosen, in words (`-v`, `explain`): `0.62b1` and this give
    /// `0.62b1: the newest release for Python 3.9` style lines.
    pub(crate) fn describe(&self) -> String {
        match self {
            ReleaseChoice::Requested => "from --otel-version".to_owned(),
            ReleaseChoice::Installed => "the installed opentelemetry-instrumentation".to_owned(),
            ReleaseChoice::NewerThanRegistry { installed } => {
                format!("installed {installed} is newer than the registry")
            }
            ReleaseChoice::NearestBelow { installed } => {
                format!("the newest release below the installed {installed}")
            }
            ReleaseChoice::NewestComplete => {
                "no opentelemetry-instrumentation installed: the newest complete release".to_owned()
            }
            ReleaseChoice::NewestForPython {
                python,
                newer,
                requires_python,
            } => format!(
                "no opentelemetry-instrumentation installed: the newest release for Python {python}; {newer} and later need Python `{requires_python}`"
            ),
        }
    }
}

/// A core package that has to move to the chosen release.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct CoreMove {
    pub(crate) name: String,
    pub(crate) installed: String,
    /// The version it moves to (the release's pin).
    pub(crate) version: String,
    /// `name==version`, as the installer is asked.
    pub(crate) requirement: String,
}

/// When the release asked for is partial, the release used instead.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Alignment {
    /// The partial release the plan would have used.
    pub(crate) from_release: String,
    /// Recommended packages with no version published at `from_release`.
    pub(crate) unpublished: Vec<String>,
    /// Installed core packages that must move to the release used.
    pub(crate) core_moves: Vec<CoreMove>,
}

impl Alignment {
    /// `opentelemetry-instrumentation 0.66b2 -> opentelemetry-instrumentation==0.66b1, …`.
    pub(crate) fn describe_core_moves(&self) -> String {
        let moves: Vec<String> = self
            .core_moves
            .iter()
            .map(|core| format!("{} {} -> {}", core.name, core.installed, core.requirement))
            .collect();
        moves.join(", ")
    }
}

/// The plan.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Plan {
    /// The registry release used (`0.66b1`), as written.
    pub(crate) release: String,
    /// The same release, parsed.
    #[serde(skip)]
    pub(crate) version: Version,
    pub(crate) release_choice: ReleaseChoice,
    /// Set when a partial release was replaced by an older, complete one.
    pub(crate) alignment: Option<Alignment>,
    pub(crate) recommendations: Vec<Recommendation>,
    pub(crate) skipped: Vec<Skipped>,
    pub(crate) warnings: Vec<Warning>,
    /// The target's Python the plan was made for (from [`PlanOptions::python`]).
    #[serde(skip)]
    pub(crate) python: Option<Version>,
}

impl Plan {
    /// The requirements of the core packages the plan moves
    /// (`opentelemetry-instrumentation==0.66b1`, …), none unless a partial release was
    /// aligned.
    /// The core packages that move to the release used.
    pub(crate) fn core_moves(&self) -> impl Iterator<Item = &CoreMove> {
        self.alignment
            .iter()
            .flat_map(|alignment| alignment.core_moves.iter())
    }

    /// Whether `name` (normalized) is a core package that moves.
    pub(crate) fn is_core_move(&self, name: &str) -> bool {
        self.core_moves().any(|core| core.name == name)
    }

    pub(crate) fn core_move_requirements(&self) -> impl Iterator<Item = &str> {
        self.alignment
            .iter()
            .flat_map(|alignment| alignment.core_moves.iter())
            .map(|core| core.requirement.as_str())
    }

    /// The release used, as a version.
    pub(crate) fn release_version(&self) -> &Version {
        &self.version
    }
}

/// Errors in what the user asked for.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PlanError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error("`--include {name}`: release `{release}` has no such instrumentation")]
    UnknownInclude { name: String, release: String },
    #[error("no release in the registry has every recommended package published (the oldest tried was `{oldest}`)")]
    NothingPublished { oldest: String },
    /// `--otel-version` names a release the target's Python cannot install.
    #[error("release `{release}` needs Python `{requires_python}`, and the target runs Python {python}; {}", newest_for_python_text(.python, .newest.as_deref()))]
    UnsupportedPython {
        release: String,
        requires_python: String,
        python: String,
        /// The newest complete release that supports it.
        newest: Option<String>,
    },
    /// No release in the registry supports the target's Python.
    #[error("no release in the registry supports Python {python} (the oldest, `{oldest}`, needs Python `{requires_python}`)")]
    NoReleaseForPython {
        python: String,
        oldest: String,
        requires_python: String,
    },
}

/// `the newest release for Python 3.9 is 0.62b1 (`--otel-version 0.62b1`)`.
fn newest_for_python_text(python: &str, newest: Option<&str>) -> String {
    match newest {
        Some(newest) => format!(
            "the newest release for Python {python} is `{newest}` (`--otel-version {newest}`)"
        ),
        None => format!("no release in the registry supports Python {python}"),
    }
}

/// The newest release with every default and library instrumentation published whose
/// packages `python` can install (any release when `python` is `None`).
pub(crate) fn newest_complete_for<'r>(
    registry: &'r Registry,
    python: Option<&Version>,
) -> Result<Option<&'r Release>, RegistryError> {
    for version in registry.versions().rev() {
        let release = registry.load(version)?;
        if !release.is_partial() && release.supports_python(python) {
            return Ok(Some(release));
        }
    }
    Ok(None)
}

/// A warning for each `--exclude` value that names no instrumentation of `release` (the
/// release the plan used).
pub(crate) fn unused_excludes(release: &Release, exclude: &[String]) -> Vec<Warning> {
    let family = crate::registry::genai::family_names();
    exclude
        .iter()
        .filter(|name| release.find(name).is_none())
        .filter(|name| {
            let normalized = crate::requirement::normalize(name);
            !family.iter().any(|package| {
                *package == normalized
                    || package.strip_prefix("opentelemetry-instrumentation-") == Some(&normalized)
            })
        })
        .map(|name| {
            Warning::new(
                WarningKind::UnusedOption,
                format!(
                    "`--exclude {name}`: release `{}` has no such instrumentation",
                    release.raw_version
                ),
            )
        })
        .collect()
}

/// Adds the names `release` looks at to `wanted`: its libraries, its instrumentation
/// packages and its core packages (the scan reads nothing else).
pub(crate) fn extend_wanted(wanted: &mut HashSet<String>, release: &Release) {
    for name in release.library_names() {
        wanted.insert(name.to_string());
    }
    for instrumentation in &release.instrumentations {
        wanted.insert(instrumentation.name.to_string());
    }
    for package in &release.core {
        wanted.insert(package.name.to_string());
    }
    wanted.insert(SDK_PROJECT.to_owned());
}

/// Chooses the release and plans it, replacing a partial release with the newest one
/// below it in which every recommended package was published.
pub(crate) fn plan(
    registry: &Registry,
    installed: &Installed,
    options: &PlanOptions,
) -> Result<Plan, PlanError> {
    let (target, release_choice) = choose_release(registry, installed, options)?;
    let release = registry.load(&target)?;
    // Bad user registry files; how a release newer than the registry was made.
    let mut warnings = registry.warnings();
    let has_sdk = installed.get_str(SDK_PROJECT).is_some();
    if !has_sdk {
        warnings.push(no_telemetry(
            "add `opentelemetry-distro` and an exporter, e.g. `otel-bootstrap -a install --with-distro`",
        ));
    }
    match &release_choice {
        ReleaseChoice::NewerThanRegistry { installed }
            if registry.newest_known() >= Some(&target) =>
        {
            warnings.push(Warning::new(
            WarningKind::Release,
            format!(
                "`{INSTRUMENTATION_PROJECT}` {installed} is newer than every release in the registry; using `{target}` (run `otel-bootstrap registry update --release {installed}`, or update otel-bootstrap)"
            ),
        ))
        }
        ReleaseChoice::NearestBelow { installed } => warnings.push(Warning::new(
            WarningKind::Release,
            format!(
                "`{INSTRUMENTATION_PROJECT}` {installed} is not in the registry; using `{target}`, the newest release below it"
            ),
        )),
        _ => {}
    }

    let mut first = plan_published(registry, release, installed, options)?;
    let unpublished = unpublished_names(release, &first);
    if unpublished.is_empty() {
        add_genai(&mut first, release, installed, options);
        let mut plan = finish(release, release_choice, None, first, warnings);
        plan.python = options.python.clone();
        return Ok(plan);
    }

    // A partial release: walk down to the newest release that has everything published.
    for candidate in registry
        .versions()
        .rev()
        .filter(|version| **version < target)
    {
        let older = registry.load(candidate)?;
        if !older.supports_python(options.python.as_ref()) {
            continue;
        }
        let mut planned = plan_published(registry, older, installed, options)?;
        if !unpublished_names(older, &planned).is_empty() {
            continue;
        }
        add_genai(&mut planned, older, installed, options);
        let core_moves = core_moves(older, installed);
        let alignment = Alignment {
            from_release: release.raw_version.clone(),
            unpublished,
            core_moves,
        };
        warnings.push(alignment_warning(&alignment, &older.raw_version));
        let mut plan = finish(older, release_choice, Some(alignment), planned, warnings);
        plan.python = options.python.clone();
        return Ok(plan);
    }
    Err(PlanError::NothingPublished {
        oldest: registry
            .versions()
            .next()
            .map(ToString::to_string)
            .unwrap_or_default(),
    })
}

/// "There is no SDK", with `fix` (what to add, in the words of where the run looked: the
/// jobs replace the plan's generic one with their own, through this same sentence).
pub(crate) fn no_telemetry(fix: &str) -> Warning {
    Warning::new(
        WarningKind::NoTelemetry,
        format!("there is no `{SDK_PROJECT}` here (nor `opentelemetry-distro`, which brings it): `opentelemetry-instrument` will load the instrumentations but export nothing; {fix}"),
    )
}

/// The release a plan starts from (before any partial-release alignment), and why.
///
/// Pure, like the rest of the plan: an installed release newer than every source (or an
/// unknown `--otel-version` learned with `--refresh`) was made by the resolve step
/// (`registry::resolve`) before planning, and is in `registry` already.
pub(crate) fn choose_release(
    registry: &Registry,
    installed: &Installed,
    options: &PlanOptions,
) -> Result<(Version, ReleaseChoice), PlanError> {
    if let Some(requested) = &options.release {
        let found = registry
            .versions()
            .find(|version| *version == requested)
            .ok_or_else(|| registry.unknown_release(&requested.to_string()))?;
        let release = registry.load(found)?;
        if let (Some(python), Some(range)) = (&options.python, &release.requires_python) {
            if !release.supports_python(Some(python)) {
                return Err(PlanError::UnsupportedPython {
                    release: release.raw_version.clone(),
                    requires_python: range.raw.clone(),
                    python: python_label(python),
                    newest: newest_complete_for(registry, Some(python))?
                        .map(|newest| newest.raw_version.clone()),
                });
            }
        }
        return Ok((found.clone(), ReleaseChoice::Requested));
    }
    let installed_version = installed
        .get_str(INSTRUMENTATION_PROJECT)
        .and_then(|distribution| distribution.version.clone());
    let newest = registry
        .newest_known()
        .ok_or_else(|| RegistryError::Empty("bundled".to_owned()))?;
    if let Some(version) = installed_version {
        if registry.knows(&version) {
            return Ok((version, ReleaseChoice::Installed));
        }
        let text = version.to_string();
        if version > *newest {
            // Never backwards because the registry is stale: a release for exactly the
            // installed version (learned, derived from the target, or the newest one
            // re-pinned by the resolve step; see `registry::resolve`).
            return Ok((
                registry.made_for(&version).unwrap_or(newest).clone(),
                ReleaseChoice::NewerThanRegistry { installed: text },
            ));
        }
        if let Some(below) = registry
            .versions()
            .rev()
            .find(|candidate| **candidate < version)
        {
            return Ok((
                below.clone(),
                ReleaseChoice::NearestBelow { installed: text },
            ));
        }
        // Older than everything bundled: the oldest release is the closest.
        let oldest = registry.versions().next().unwrap_or(newest);
        return Ok((
            oldest.clone(),
            ReleaseChoice::NearestBelow { installed: text },
        ));
    }
    let python = options.python.as_ref();
    // The newest complete release that needs another Python, if one is newer than the
    // chosen one (to say why a newer one was not taken).
    let mut newer_unsupported: Option<&Release> = None;
    for candidate in registry.versions().rev() {
        let release = registry.load(candidate)?;
        if release.is_partial() {
            continue;
        }
        if !release.supports_python(python) {
            newer_unsupported = Some(release);
            continue;
        }
        let choice = match (newer_unsupported, python) {
            (Some(newer), Some(python)) => ReleaseChoice::NewestForPython {
                python: python_label(python),
                newer: newer.raw_version.clone(),
                requires_python: newer
                    .requires_python
                    .as_ref()
                    .map(|range| range.raw.clone())
                    .unwrap_or_default(),
            },
            _ => ReleaseChoice::NewestComplete,
        };
        return Ok((candidate.clone(), choice));
    }
    if let Some(python) = python {
        // Nothing complete fits this Python: refuse rather than print pins that cannot
        // install (unless nothing fits because nothing is complete).
        if let Some(oldest) = registry.versions().next() {
            let oldest = registry.load(oldest)?;
            if let Some(range) = oldest
                .requires_python
                .as_ref()
                .filter(|_| !oldest.supports_python(Some(python)))
            {
                return Err(PlanError::NoReleaseForPython {
                    python: python_label(python),
                    oldest: oldest.raw_version.clone(),
                    requires_python: range.raw.clone(),
                });
            }
        }
    }
    Ok((newest.clone(), ReleaseChoice::NewestComplete))
}

/// The recommendations and skips for one release.
struct Planned {
    recommendations: Vec<Recommendation>,
    skipped: Vec<Skipped>,
}

fn plan_release(
    release: &Release,
    installed: &Installed,
    options: &PlanOptions,
) -> Result<Planned, PlanError> {
    let matches_any = |names: &[String], instrumentation: &Instrumentation| {
        names.iter().any(|name| instrumentation.is_named(name))
    };
    for name in &options.include {
        let genai = options
            .genai
            .as_ref()
            .is_some_and(|genai| genai.find(name).is_some());
        if release.find(name).is_none() && !genai {
            return Err(PlanError::UnknownInclude {
                name: name.clone(),
                release: release.raw_version.clone(),
            });
        }
    }

    let mut planned = Planned {
        recommendations: Vec::new(),
        skipped: Vec::new(),
    };
    // Defaults first, then the rest, each in registry order.
    let ordered = release
        .instrumentations
        .iter()
        .filter(|entry| entry.kind == Kind::Default)
        .chain(
            release
                .instrumentations
                .iter()
                .filter(|entry| entry.kind != Kind::Default),
        );
    for instrumentation in ordered {
        let skip = |reasons| Skipped {
            name: instrumentation.name.to_string(),
            requirement: instrumentation.requirement.raw.clone(),
            reasons,
        };
        let evaluation = evaluate(instrumentation, installed);
        let excluded = matches_any(&options.exclude, instrumentation);
        let included = matches_any(&options.include, instrumentation);
        let reason = match instrumentation.kind {
            Kind::Default => Some(Reason::Default),
            Kind::Library => evaluation
                .satisfied
                .clone()
                .map(|satisfied_by| Reason::Libraries { satisfied_by }),
            Kind::OptIn if included => {
                let needs_nothing = instrumentation.instruments.is_empty()
                    && instrumentation.instruments_any.is_empty();
                match evaluation.satisfied.clone() {
                    Some(satisfied_by) => Some(Reason::Included { satisfied_by }),
                    None if needs_nothing => Some(Reason::Included {
                        satisfied_by: Vec::new(),
                    }),
                    None => None,
                }
            }
            Kind::OptIn => {
                if evaluation
                    .satisfied
                    .as_ref()
                    .is_some_and(|found| !found.is_empty())
                {
                    planned.skipped.push(skip(vec![SkipReason::OptIn]));
                }
                continue;
            }
        };
        let unsupported = options.python.as_ref().and_then(|python| {
            instrumentation
                .requires_python
                .as_ref()
                .filter(|range| !range.admits(python))
                .map(|range| SkipReason::UnsupportedPython {
                    requires_python: range.raw.clone(),
                    python: python_label(python),
                })
        });
        match reason {
            Some(_) if excluded => planned.skipped.push(skip(vec![SkipReason::Excluded])),
            Some(_) if unsupported.is_some() => planned
                .skipped
                .extend(unsupported.map(|reason| skip(vec![reason]))),
            Some(reason) => planned.recommendations.push(Recommendation {
                name: instrumentation.name.to_string(),
                requirement: instrumentation.requirement.raw.clone(),
                parsed: instrumentation.requirement.clone(),
                reason,
                genai: None,
            }),
            None if !evaluation.problems.is_empty() => {
                planned.skipped.push(skip(evaluation.problems))
            }
            None => {}
        }
    }
    Ok(planned)
}

/// [`plan_release`], without the recommendations that no release ever published: those
/// are no reason to move to an older release, only to leave them out.
fn plan_published(
    registry: &Registry,
    release: &Release,
    installed: &Installed,
    options: &PlanOptions,
) -> Result<Planned, PlanError> {
    let mut planned = plan_release(release, installed, options)?;
    if unpublished_names(release, &planned).is_empty() {
        return Ok(planned);
    }
    let mut published_somewhere: HashSet<&str> = HashSet::new();
    for version in registry.versions() {
        for entry in &registry.load(version)?.instrumentations {
            if entry.published {
                published_somewhere.insert(entry.name.as_ref());
            }
        }
    }
    let (kept, dropped): (Vec<_>, Vec<_>) = planned
        .recommendations
        .into_iter()
        .partition(|recommendation| published_somewhere.contains(recommendation.name.as_str()));
    planned.recommendations = kept;
    planned
        .skipped
        .extend(dropped.into_iter().map(|recommendation| Skipped {
            name: recommendation.name,
            requirement: recommendation.requirement,
            reasons: vec![SkipReason::NeverPublished],
        }));
    Ok(planned)
}

/// What the environment says about one instrumentation's libraries.
struct Evaluation {
    /// `Some` when its requirements are met, with the libraries that met them.
    satisfied: Option<Vec<SatisfiedBy>>,
    /// Why not, for libraries that are present (libraries simply absent are no problem).
    problems: Vec<SkipReason>,
}

fn evaluate(instrumentation: &Instrumentation, installed: &Installed) -> Evaluation {
    let mut problems = Vec::new();
    let mut check = |requirement: &PlainRequirement| -> Option<SatisfiedBy> {
        let distribution = installed.get(&requirement.name)?;
        let Some(version) = &distribution.version else {
            problems.push(SkipReason::InvalidVersion {
                library: distribution.name.to_string(),
                installed: distribution.raw_version.clone(),
            });
            return None;
        };
        if requirement.contains(version) {
            Some(SatisfiedBy {
                requirement: requirement.raw.clone(),
                name: distribution.name.to_string(),
                version: distribution.raw_version.clone(),
                location: distribution.path.display().to_string(),
            })
        } else {
            problems.push(SkipReason::OutOfRange {
                library: distribution.name.to_string(),
                installed: distribution.raw_version.clone(),
                requirement: requirement.raw.clone(),
            });
            None
        }
    };

    let mut satisfied = Vec::new();
    let mut missing = Vec::new();
    for requirement in &instrumentation.instruments {
        match check(requirement) {
            Some(found) => satisfied.push(found),
            None => missing.push(requirement),
        }
    }
    let any: Vec<SatisfiedBy> = instrumentation
        .instruments_any
        .iter()
        .filter_map(&mut check)
        .collect();
    let any_met = instrumentation.instruments_any.is_empty() || !any.is_empty();
    let names_something =
        !instrumentation.instruments.is_empty() || !instrumentation.instruments_any.is_empty();
    let all_met = missing.is_empty();
    satisfied.extend(any);

    if all_met && any_met && names_something {
        // Out-of-range alternatives do not matter once one alternative is satisfied.
        return Evaluation {
            satisfied: Some(satisfied),
            problems: Vec::new(),
        };
    }
    // Something is present but not enough: say which required library is missing.
    if !satisfied.is_empty() || !problems.is_empty() {
        for requirement in missing {
            if installed.get(&requirement.name).is_none() {
                problems.push(SkipReason::MissingLibrary {
                    library: requirement.name.to_string(),
                    requirement: requirement.raw.clone(),
                });
            }
        }
    }
    Evaluation {
        satisfied: None,
        problems,
    }
}

fn unpublished_names(release: &Release, planned: &Planned) -> Vec<String> {
    planned
        .recommendations
        .iter()
        .filter(|recommendation| {
            release
                .instrumentations
                .iter()
                .any(|entry| entry.name.as_ref() == recommendation.name && !entry.published)
        })
        .map(|recommendation| recommendation.requirement.clone())
        .collect()
}

fn core_moves(release: &Release, installed: &Installed) -> Vec<CoreMove> {
    release
        .core
        .iter()
        .filter_map(|package| {
            let distribution = installed.get(&package.name)?;
            if distribution.version.as_ref() == Some(&package.version) {
                return None;
            }
            Some(CoreMove {
                name: package.name.to_string(),
                installed: distribution.raw_version.clone(),
                version: package.raw_version.clone(),
                requirement: format!("{}=={}", package.name, package.raw_version),
            })
        })
        .collect()
}

/// One line: the partial release, how many recommended packages it lacks and the release
/// used; the names and the core moves are in the plan's [`Alignment`] (`-v`, JSON,
/// `explain`).
fn alignment_warning(alignment: &Alignment, used: &str) -> Warning {
    let count = alignment.unpublished.len();
    Warning::new(
        WarningKind::Release,
        format!(
            "release `{}` is partial ({count} recommended package{} never published at it); using `{used}`, the newest complete release (`-v` names them)",
            alignment.from_release,
            if count == 1 { " was" } else { "s were" },
        ),
    )
}

impl Alignment {
    /// The details of a partial release for `-v`: what was never published, and the core
    /// packages that move to the release used.
    pub(crate) fn details(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "never published at `{}`: {}",
            self.from_release,
            self.unpublished.join(", ")
        )];
        if !self.core_moves.is_empty() {
            lines.push(format!(
                "core packages that move: {}",
                self.describe_core_moves()
            ));
        }
        lines
    }
}

/// The GenAI family's picks, added to `planned`: for each family package whose libraries
/// are installed within range, the newest version whose core requirements admit the
/// release, the API and the Python (never one that would move the core), pinned `==`.
/// Then the "one instrumentation per library" table: where a pick and a contrib
/// recommendation instrument the same library, the pick wins, unless the contrib one was
/// asked for with `--include`. `--exclude` leaves a pick out (and the contrib one stays).
fn add_genai(
    planned: &mut Planned,
    release: &Release,
    installed: &Installed,
    options: &PlanOptions,
) {
    let Some(genai) = options.genai.as_deref() else {
        return;
    };
    let api = installed
        .get_str(crate::registry::genai::API_PROJECT)
        .and_then(|distribution| distribution.version.clone())
        .or_else(|| genai.api_for_release(&release.version).cloned());
    let core = Core {
        release: release.version.clone(),
        api,
        python: options.python.clone(),
    };
    let names = |list: &[String], package: &crate::registry::genai::Package| {
        list.iter().any(|name| package.is_named(name))
    };
    for package in &genai.packages {
        let mut picked = None;
        let mut problems: Option<Vec<SkipReason>> = None;
        // The newest version whose libraries are installed within range and whose core
        // requirements admit this environment; else why the newest such version is refused.
        let mut refusal = None;
        for version in &package.versions {
            let Ok(requirement) =
                PlainRequirement::parse(&format!("{}=={}", package.name, version.raw_version))
            else {
                continue;
            };
            let entry = Instrumentation {
                name: package.name.clone(),
                requirement,
                kind: Kind::Library,
                published: true,
                instruments: version.instruments.clone(),
                instruments_any: Vec::new(),
                // The family's `Requires-Python` is checked by `refusal` below.
                requires_python: None,
            };
            let evaluation = evaluate(&entry, installed);
            match evaluation.satisfied {
                Some(satisfied_by) => match genai.refusal(version, &core) {
                    None => {
                        picked = Some((entry, version, satisfied_by));
                        break;
                    }
                    Some(reason) => {
                        refusal.get_or_insert(format!("{} {reason}", version.raw_version));
                    }
                },
                None => {
                    if problems.is_none() && !evaluation.problems.is_empty() {
                        problems = Some(evaluation.problems);
                    }
                }
            }
        }
        let skip = |requirement: String, reasons| Skipped {
            name: package.name.to_string(),
            requirement,
            reasons,
        };
        let newest = |package: &crate::registry::genai::Package| {
            package
                .versions
                .first()
                .map(|version| format!("{}=={}", package.name, version.raw_version))
                .unwrap_or_else(|| package.name.to_string())
        };
        // One instrumentation per library: a recommendation of the registry's own for the
        // same library (a vendor registry or overlay) wins, unless the table says this
        // package replaces it.
        let rival = picked.as_ref().and_then(|(entry, _, _)| {
            planned.recommendations.iter().find(|recommendation| {
                genai.replaces.iter().all(|rule| {
                    !(package.is_named(&rule.replaced_by)
                        && crate::requirement::normalize(&rule.instrumentation)
                            == crate::requirement::normalize(&recommendation.name))
                }) && release.find(&recommendation.name).is_some_and(|other| {
                    other
                        .instruments
                        .iter()
                        .chain(&other.instruments_any)
                        .any(|library| {
                            entry
                                .instruments
                                .iter()
                                .any(|ours| ours.name == library.name)
                        })
                })
            })
        });
        if let (Some((entry, _, _)), Some(rival)) = (&picked, rival) {
            planned.skipped.push(skip(
                entry.requirement.raw.clone(),
                vec![SkipReason::Replaced {
                    by: rival.name.clone(),
                    reason: "the registry's own instrumentation of the same library wins (a vendor registry or overlay)".to_owned(),
                }],
            ));
            continue;
        }
        match picked {
            Some((entry, _, _)) if names(&options.exclude, package) => planned
                .skipped
                .push(skip(entry.requirement.raw, vec![SkipReason::Excluded])),
            Some((entry, version, satisfied_by)) => {
                let mut admitted = vec![format!("release {}", core.release)];
                if let Some(api) = &core.api {
                    admitted.push(format!("opentelemetry-api {api}"));
                }
                if let Some(python) = &core.python {
                    admitted.push(format!("Python {python}"));
                }
                let why = match genai.newest_admitted(package, &core) {
                    Admitted::Version(newest) if newest.version == version.version => format!(
                        "the newest version whose core requirements admit {}",
                        admitted.join(", ")
                    ),
                    _ => format!(
                        "the newest version whose core requirements admit {} and whose range holds the installed libraries",
                        admitted.join(", ")
                    ),
                };
                planned.recommendations.push(Recommendation {
                    name: package.name.to_string(),
                    requirement: entry.requirement.raw.clone(),
                    parsed: entry.requirement,
                    reason: Reason::Libraries { satisfied_by },
                    genai: Some(GenAiChoice {
                        version: version.raw_version.clone(),
                        why,
                        replaces: None,
                    }),
                });
            }
            None => {
                if let Some(reason) = refusal {
                    planned.skipped.push(skip(
                        newest(package),
                        vec![SkipReason::NoCompatibleVersion { reason }],
                    ));
                } else if let Some(problems) = problems {
                    planned.skipped.push(skip(newest(package), problems));
                }
            }
        }
    }

    // One instrumentation per library.
    for rule in &genai.replaces {
        let position = |name: &str| {
            planned.recommendations.iter().position(|recommendation| {
                crate::requirement::normalize(&recommendation.name)
                    == crate::requirement::normalize(name)
            })
        };
        let (Some(contrib), Some(family)) =
            (position(&rule.instrumentation), position(&rule.replaced_by))
        else {
            continue;
        };
        let contrib_included = release
            .find(&rule.instrumentation)
            .is_some_and(|entry| options.include.iter().any(|name| entry.is_named(name)));
        let (loser, winner, reason) = if contrib_included {
            (family, contrib, "asked for with --include".to_owned())
        } else {
            (contrib, family, rule.reason.clone())
        };
        let winner_name = planned.recommendations[winner].name.clone();
        let loser_name = planned.recommendations[loser].name.clone();
        if let Some(choice) = planned.recommendations[winner].genai.as_mut() {
            choice.replaces = Some(loser_name);
        }
        let removed = planned.recommendations.remove(loser);
        planned.skipped.push(Skipped {
            name: removed.name,
            requirement: removed.requirement,
            reasons: vec![SkipReason::Replaced {
                by: winner_name,
                reason,
            }],
        });
    }
}

/// The out-of-range warnings of one left-out instrumentation: one per library outside its
/// range, and none unless the instrumentation would otherwise be recommended (an
/// out-of-range library matters only when it is all that keeps it out: `pydantic` alone
/// never makes tortoiseorm a candidate). `found(library, version)` says where the library
/// is: `` `pydantic` 1.6.2 is installed`` or `` `pydantic` is locked at 1.6.2 (…)``.
pub(crate) fn out_of_range_warnings(
    skipped: &Skipped,
    found: impl Fn(&str, &str) -> String,
) -> Vec<Warning> {
    let missing_another = skipped
        .reasons
        .iter()
        .any(|reason| matches!(reason, SkipReason::MissingLibrary { .. }));
    if missing_another {
        return Vec::new();
    }
    skipped
        .reasons
        .iter()
        .filter_map(|reason| match reason {
            SkipReason::OutOfRange {
                library,
                installed,
                requirement,
            } => Some(Warning::new(
                WarningKind::OutOfRange,
                format!(
                    "{}, but `{}` supports `{requirement}`; not recommending it",
                    found(library, installed),
                    skipped.name
                ),
            )),
            _ => None,
        })
        .collect()
}

fn finish(
    release: &Release,
    release_choice: ReleaseChoice,
    alignment: Option<Alignment>,
    planned: Planned,
    mut warnings: Vec<Warning>,
) -> Plan {
    for skipped in &planned.skipped {
        warnings.extend(out_of_range_warnings(skipped, |library, version| {
            format!("`{library}` {version} is installed")
        }));
        for reason in &skipped.reasons {
            if let SkipReason::NoCompatibleVersion { reason } = reason {
                warnings.push(Warning::new(
                    WarningKind::OutOfRange,
                    format!(
                        "no version of `{}` goes with this environment without moving its core: {reason}; not recommending it",
                        skipped.name
                    ),
                ));
            }
            if let SkipReason::UnsupportedPython { .. } = reason {
                warnings.push(Warning::new(
                    WarningKind::Release,
                    format!(
                        "`{}`: {}; not recommending it",
                        skipped.name,
                        reason.describe("installed")
                    ),
                ));
            }
        }
        if skipped.reasons.contains(&SkipReason::NeverPublished) {
            warnings.push(Warning::new(
                WarningKind::Release,
                format!(
                    "release `{}` lists `{}`, which was never published; leaving it out",
                    release.raw_version, skipped.requirement
                ),
            ));
        }
    }
    Plan {
        release: release.raw_version.clone(),
        version: release.version.clone(),
        release_choice,
        alignment,
        recommendations: planned.recommendations,
        skipped: planned.skipped,
        warnings,
        python: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::InstalledDistribution;

    fn release(version: &str, unpublished: &[&str]) -> String {
        let entry = |name: &str, kind: &str, instruments: &str, any: &str| {
            let published = !unpublished.contains(&name);
            format!(
                r#"{{"name": "opentelemetry-instrumentation-{name}", "requirement": "opentelemetry-instrumentation-{name}=={version}", "kind": "{kind}", "published": {published}, "instruments": [{instruments}], "instruments_any": [{any}]}}"#
            )
        };
        let entries = [
            entry("asyncio", "default", "", ""),
            entry("wsgi", "default", "", ""),
            entry(
                "botocore",
                "library",
                "",
                r#""aiobotocore<4.0,>=2.0", "botocore~=1.0""#,
            ),
            entry("flask", "library", r#""flask>=1.0""#, ""),
            entry(
                "psycopg2",
                "library",
                "",
                r#""psycopg2-binary>=2.7.3.1", "psycopg2>=2.7.3.1""#,
            ),
            entry("sqlalchemy", "library", r#""sqlalchemy<2.1.0,>=1.0.0""#, ""),
            entry(
                "tortoiseorm",
                "library",
                r#""pydantic>=1.10.2", "tortoise-orm>=0.17.0""#,
                "",
            ),
            entry("aws-lambda", "opt-in", "", ""),
            entry("google-genai", "opt-in", r#""google-genai>=1.0""#, ""),
        ];
        format!(
            r#"{{"schema": 1, "release": "{version}", "core": [{{"name": "opentelemetry-instrumentation", "version": "{version}", "published": true}}, {{"name": "opentelemetry-semantic-conventions", "version": "{version}", "published": true}}], "instrumentations": [{}]}}"#,
            entries.join(",")
        )
    }

    fn registry() -> Registry {
        let old = release("1.0b0", &[]);
        let partial = release("1.1b0", &["flask"]);
        Registry::from_texts(&[("1.0b0.json", &old), ("1.1b0.json", &partial)]).unwrap()
    }

    /// `distributions`, and the SDK (its absence has a test of its own).
    fn installed(distributions: &[(&str, &str)]) -> Installed {
        bare(&[distributions, &[(SDK_PROJECT, "1.45.1")]].concat())
    }

    fn bare(distributions: &[(&str, &str)]) -> Installed {
        Installed::from_distributions(distributions.iter().map(|(name, version)| {
            InstalledDistribution {
                name: crate::requirement::PackageName::new((*name).to_owned()).unwrap(),
                raw_version: (*version).to_owned(),
                version: crate::requirement::parse_version(version),
                path: format!("/site-packages/{name}-{version}.dist-info").into(),
            }
        }))
    }

    fn requirements(plan: &Plan) -> Vec<&str> {
        plan.recommendations
            .iter()
            .map(|recommendation| recommendation.requirement.as_str())
            .collect()
    }

    #[test]
    fn without_the_sdk_nothing_is_exported_and_it_says_so() {
        let plan = plan(
            &registry(),
            &bare(&[("flask", "3.0.0")]),
            &PlanOptions::default(),
        )
        .unwrap();
        assert_eq!(plan.warnings[0].kind, WarningKind::NoTelemetry);
        assert!(plan.warnings[0].message.contains("--with-distro"));
        let with_sdk = plan_for(&[("flask", "3.0.0")], &PlanOptions::default());
        assert!(with_sdk
            .warnings
            .iter()
            .all(|warning| warning.kind != WarningKind::NoTelemetry));
    }

    fn plan_for(distributions: &[(&str, &str)], options: &PlanOptions) -> Plan {
        plan(&registry(), &installed(distributions), options).unwrap()
    }

    #[test]
    fn defaults_only_and_the_newest_complete_release() {
        let planned = plan_for(&[], &PlanOptions::default());
        assert_eq!(planned.release, "1.0b0");
        assert_eq!(planned.release_choice, ReleaseChoice::NewestComplete);
        assert_eq!(
            requirements(&planned),
            [
                "opentelemetry-instrumentation-asyncio==1.0b0",
                "opentelemetry-instrumentation-wsgi==1.0b0"
            ]
        );
    }

    #[test]
    fn explains_every_decision() {
        let planned = plan_for(
            &[
                ("opentelemetry-instrumentation", "1.0b0"),
                ("flask", "3.0.0"),
                ("sqlalchemy", "2.1.0"),
                ("psycopg2", "2.9.9"),
                ("psycopg2-binary", "2.9.9"),
                ("pydantic", "2.7.0"),
                ("google-genai", "1.2.0"),
                ("botocore", "not.a.version"),
            ],
            &PlanOptions::default(),
        );
        insta::assert_json_snapshot!(planned);
    }

    #[test]
    fn pydantic_alone_is_not_tortoise_orm() {
        let alone = plan_for(&[("pydantic", "2.7.0")], &PlanOptions::default());
        assert!(!requirements(&alone)
            .iter()
            .any(|line| line.contains("tortoiseorm")));
        let both = plan_for(
            &[("pydantic", "2.7.0"), ("tortoise-orm", "0.21.0")],
            &PlanOptions::default(),
        );
        assert!(requirements(&both)
            .iter()
            .any(|line| line.contains("tortoiseorm")));
    }

    #[test]
    fn any_of_is_printed_once_and_tolerates_an_out_of_range_alternative() {
        let planned = plan_for(
            &[("botocore", "1.34.0"), ("aiobotocore", "5.0.0")],
            &PlanOptions::default(),
        );
        let botocore: Vec<_> = requirements(&planned)
            .into_iter()
            .filter(|line| line.contains("botocore"))
            .collect();
        assert_eq!(botocore, ["opentelemetry-instrumentation-botocore==1.0b0"]);
        assert!(planned.warnings.is_empty(), "{:?}", planned.warnings);
    }

    #[test]
    fn pre_releases_inside_the_range_match() {
        let planned = plan_for(&[("sqlalchemy", "2.0.0rc1")], &PlanOptions::default());
        assert!(requirements(&planned)
            .iter()
            .any(|line| line.contains("sqlalchemy")));
        let planned = plan_for(&[("sqlalchemy", "2.1.0b1")], &PlanOptions::default());
        assert!(!requirements(&planned)
            .iter()
            .any(|line| line.contains("sqlalchemy")));
    }

    #[test]
    fn exclude_and_include() {
        let options = PlanOptions {
            exclude: vec![
                "flask".to_owned(),
                "opentelemetry-instrumentation-wsgi".to_owned(),
            ],
            include: vec!["aws-lambda".to_owned(), "google_genai".to_owned()],
            ..PlanOptions::default()
        };
        let planned = plan_for(&[("flask", "3.0.0"), ("google-genai", "1.2.0")], &options);
        assert_eq!(
            requirements(&planned),
            [
                "opentelemetry-instrumentation-asyncio==1.0b0",
                "opentelemetry-instrumentation-aws-lambda==1.0b0",
                "opentelemetry-instrumentation-google-genai==1.0b0"
            ]
        );
        let unknown = PlanOptions {
            include: vec!["nope".to_owned()],
            ..PlanOptions::default()
        };
        assert!(matches!(
            plan(&registry(), &installed(&[]), &unknown),
            Err(PlanError::UnknownInclude { .. })
        ));
    }

    #[test]
    fn a_partial_release_aligns_to_a_published_one() {
        let installed_set = [
            ("opentelemetry-instrumentation", "1.1b0"),
            ("opentelemetry-semantic-conventions", "1.1b0"),
            ("flask", "3.0.0"),
        ];
        let planned = plan_for(&installed_set, &PlanOptions::default());
        assert_eq!(planned.release, "1.0b0");
        assert!(requirements(&planned)
            .iter()
            .all(|line| line.ends_with("==1.0b0")));
        insta::assert_json_snapshot!(planned.alignment);
        assert!(planned.warnings[0].message.contains("partial"));

        // Without flask, the partial release has everything the plan needs: no alignment.
        let planned = plan_for(&installed_set[..2], &PlanOptions::default());
        assert_eq!(planned.release, "1.1b0");
        assert_eq!(planned.alignment, None);
    }

    #[test]
    fn release_choice_follows_the_installed_version() {
        let choice = |version: &str| {
            let planned = plan_for(
                &[("opentelemetry-instrumentation", version)],
                &PlanOptions::default(),
            );
            (planned.release, planned.release_choice)
        };
        assert_eq!(
            choice("1.1b0"),
            ("1.1b0".to_owned(), ReleaseChoice::Installed)
        );
        assert_eq!(
            choice("9.0b0").1,
            ReleaseChoice::NewerThanRegistry {
                installed: "9.0b0".to_owned()
            }
        );
        assert_eq!(choice("1.0b1").0, "1.0b0");
        let requested = PlanOptions {
            release: Some("1.0b0".parse().unwrap()),
            ..PlanOptions::default()
        };
        let planned = plan_for(&[("opentelemetry-instrumentation", "1.1b0")], &requested);
        assert_eq!(planned.release_choice, ReleaseChoice::Requested);
        let unknown = PlanOptions {
            release: Some("0.1".parse().unwrap()),
            ..PlanOptions::default()
        };
        assert!(plan(&registry(), &installed(&[]), &unknown).is_err());
    }

    #[test]
    fn a_package_never_published_anywhere_is_left_out_not_aligned() {
        let with_ghost = release("1.1b0", &[]).replacen(
            r#""instrumentations": ["#,
            r#""instrumentations": [{"name": "opentelemetry-instrumentation-test", "requirement": "opentelemetry-instrumentation-test==1.1b0", "kind": "default", "published": false},"#,
            1,
        );
        let old = release("1.0b0", &[]);
        let registry =
            Registry::from_texts(&[("1.0b0.json", &old), ("1.1b0.json", &with_ghost)]).unwrap();
        let planned = plan(
            &registry,
            &installed(&[("opentelemetry-instrumentation", "1.1b0")]),
            &PlanOptions::default(),
        )
        .unwrap();
        assert_eq!(planned.release, "1.1b0");
        assert_eq!(planned.alignment, None);
        assert!(!requirements(&planned)
            .iter()
            .any(|line| line.contains("-test==")));
        assert_eq!(planned.skipped[0].reasons, [SkipReason::NeverPublished]);
        assert!(planned.warnings[0].message.contains("never published"));
    }

    /// The GenAI family against the bundled registry: openai 3.x and anthropic in an
    /// environment at `release`, with `python`.
    fn genai_plan(
        release: &str,
        api: &str,
        python: Option<&str>,
        exclude: &[&str],
        include: &[&str],
    ) -> Plan {
        let registry = Registry::bundled();
        let options = PlanOptions {
            release: crate::requirement::parse_version(release),
            exclude: exclude.iter().map(|name| (*name).to_owned()).collect(),
            include: include.iter().map(|name| (*name).to_owned()).collect(),
            genai: Some(std::sync::Arc::new(GenAi::bundled())),
            python: python.and_then(crate::requirement::parse_version),
        };
        let installed = installed(&[
            ("openai", "3.63.0"),
            ("anthropic", "2.17.0"),
            ("opentelemetry-api", api),
        ]);
        plan(&registry, &installed, &options).unwrap()
    }

    /// What a GenAI plan says about openai and anthropic: the recommendations, the skips
    /// and the warnings.
    fn genai_summary(plan: &Plan) -> serde_json::Value {
        let genai = |name: &str| name.contains("openai") || name.contains("anthropic");
        serde_json::json!({
            "recommended": plan.recommendations.iter().filter(|r| genai(&r.name)).collect::<Vec<_>>(),
            "skipped": plan.skipped.iter().filter(|s| genai(&s.name)).collect::<Vec<_>>(),
            "warnings": plan.warnings.iter().filter(|w| w.kind != WarningKind::Release).map(|w| &w.message).collect::<Vec<_>>(),
        })
    }

    #[test]
    fn genai_one_instrumentation_per_library_with_a_version_for_the_core() {
        let today = genai_plan("0.66b1", "1.45.1", Some("3.11"), &[], &[]);
        insta::assert_json_snapshot!("genai_today", genai_summary(&today));
        assert!(requirements(&today).contains(&"opentelemetry-instrumentation-genai-openai==1.3b0"));
        assert!(!requirements(&today).contains(&"opentelemetry-instrumentation-openai-v2"));

        // `--exclude genai-openai`: upstream's openai-v2 stays.
        let excluded = genai_plan("0.66b1", "1.45.1", Some("3.11"), &["genai-openai"], &[]);
        assert!(requirements(&excluded).contains(&"opentelemetry-instrumentation-openai-v2"));
        assert!(!requirements(&excluded)
            .iter()
            .any(|r| r.contains("genai-openai")));
        // `--include openai-v2`: the contrib one wins.
        let included = genai_plan("0.66b1", "1.45.1", Some("3.11"), &[], &["openai-v2"]);
        insta::assert_json_snapshot!("genai_include_contrib", genai_summary(&included));

        // An older core (0.60b0 / 1.39): no family version goes with it without moving it.
        let older = genai_plan("0.60b0", "1.39.0", Some("3.11"), &[], &[]);
        insta::assert_json_snapshot!("genai_older_core", genai_summary(&older));
        // Python 3.9: the release is the newest for 3.9 (0.62b1, older than every family
        // version's core) and every family version needs 3.10 anyway: no GenAI package.
        let old_python = genai_plan("", "1.41.1", Some("3.9"), &[], &[]);
        assert_eq!(old_python.release, "0.62b1");
        assert!(!requirements(&old_python)
            .iter()
            .any(|r| r.contains("genai")));
        // `--otel-version 0.66b1` on 3.9 is refused before any GenAI choice.
        let registry = Registry::bundled();
        let refused = plan(
            &registry,
            &installed(&[("openai", "3.63.0")]),
            &PlanOptions {
                release: crate::requirement::parse_version("0.66b1"),
                genai: Some(std::sync::Arc::new(GenAi::bundled())),
                python: crate::requirement::parse_version("3.9"),
                ..PlanOptions::default()
            },
        );
        assert!(matches!(refused, Err(PlanError::UnsupportedPython { .. })));
    }

    /// `release(version)` declaring `Requires-Python` `range`.
    fn for_python(version: &str, unpublished: &[&str], range: &str) -> String {
        release(version, unpublished).replacen(
            &format!(r#""release": "{version}","#),
            &format!(r#""release": "{version}", "requires_python": "{range}","#),
            1,
        )
    }

    fn python(text: &str) -> Option<Version> {
        crate::registry::python_version(text)
    }

    /// 1.0b0 for 3.8+, 1.1b0 for 3.9+, 1.2b0 for 3.10+, 1.3b0 partial (3.10+).
    fn python_registry() -> Registry {
        let texts = [
            ("1.0b0.json", for_python("1.0b0", &[], ">=3.8")),
            ("1.1b0.json", for_python("1.1b0", &[], ">=3.9")),
            ("1.2b0.json", for_python("1.2b0", &[], ">=3.10")),
            ("1.3b0.json", for_python("1.3b0", &["flask"], ">=3.10")),
        ];
        let borrowed: Vec<(&str, &str)> = texts
            .iter()
            .map(|(name, text)| (*name, text.as_str()))
            .collect();
        Registry::from_texts(&borrowed).unwrap()
    }

    #[test]
    fn the_free_choice_is_the_newest_complete_release_for_the_python() {
        let registry = python_registry();
        let choose = |text: Option<&str>| {
            let options = PlanOptions {
                python: text.and_then(python),
                ..PlanOptions::default()
            };
            let planned = plan(&registry, &installed(&[]), &options).unwrap();
            (planned.release, planned.release_choice.describe())
        };
        insta::assert_debug_snapshot!([
            choose(Some("3.8")),
            choose(Some("3.9")),
            choose(Some("3.9.18")),
            choose(Some("3.10")),
            choose(Some("3.13")),
            choose(None),
        ]);
        // A Python no release supports is an error, not pins that cannot install.
        let options = PlanOptions {
            python: python("3.7"),
            ..PlanOptions::default()
        };
        let error = plan(&registry, &installed(&[]), &options).unwrap_err();
        assert_eq!(
            error.to_string(),
            "no release in the registry supports Python 3.7 (the oldest, `1.0b0`, needs Python `>=3.8`)"
        );
    }

    #[test]
    fn what_is_installed_still_fixes_the_release() {
        let registry = python_registry();
        let options = PlanOptions {
            python: python("3.9"),
            ..PlanOptions::default()
        };
        let planned = plan(
            &registry,
            &installed(&[("opentelemetry-instrumentation", "1.2b0")]),
            &options,
        )
        .unwrap();
        assert_eq!(planned.release, "1.2b0");
        assert_eq!(planned.release_choice, ReleaseChoice::Installed);
        // A partial installed release aligns down only to a release this Python can install.
        let planned = plan(
            &registry,
            &installed(&[
                ("opentelemetry-instrumentation", "1.3b0"),
                ("flask", "3.0.0"),
            ]),
            &options,
        )
        .unwrap();
        assert_eq!(planned.release, "1.1b0");
    }

    #[test]
    fn a_requested_release_this_python_cannot_install_is_an_error_naming_one_it_can() {
        let registry = python_registry();
        let options = |release: &str, text: Option<&str>| PlanOptions {
            release: Some(release.parse().unwrap()),
            python: text.and_then(python),
            ..PlanOptions::default()
        };
        let error = plan(&registry, &installed(&[]), &options("1.2b0", Some("3.9"))).unwrap_err();
        insta::assert_snapshot!(error.to_string(), @"release `1.2b0` needs Python `>=3.10`, and the target runs Python 3.9; the newest release for Python 3.9 is `1.1b0` (`--otel-version 1.1b0`)");
        assert!(matches!(
            error,
            PlanError::UnsupportedPython { ref newest, .. } if newest.as_deref() == Some("1.1b0")
        ));
        // Supported, or no Python known: as asked.
        for (release, text) in [("1.1b0", Some("3.9")), ("1.2b0", None)] {
            let planned = plan(&registry, &installed(&[]), &options(release, text)).unwrap();
            assert_eq!(planned.release, release);
        }
    }

    #[test]
    fn an_instrumentation_needing_a_newer_python_is_left_out_with_its_reason() {
        let text = for_python("1.1b0", &[], ">=3.9").replacen(
            r#""kind": "library", "published": true, "instruments": ["flask>=1.0"]"#,
            r#""kind": "library", "published": true, "requires_python": ">=3.10", "instruments": ["flask>=1.0"]"#,
            1,
        );
        let registry = Registry::from_texts(&[("1.1b0.json", &text)]).unwrap();
        let options = PlanOptions {
            python: python("3.9"),
            ..PlanOptions::default()
        };
        let planned = plan(&registry, &installed(&[("flask", "3.0.0")]), &options).unwrap();
        assert!(!requirements(&planned)
            .iter()
            .any(|line| line.contains("-flask")));
        assert_eq!(
            planned.skipped[0].reasons[0].describe("installed"),
            "it needs Python `>=3.10`, the target runs Python 3.9"
        );
        assert!(planned
            .warnings
            .iter()
            .any(|warning| warning.message
                == "`opentelemetry-instrumentation-flask`: it needs Python `>=3.10`, the target runs Python 3.9; not recommending it"));
        // On 3.10 it is recommended.
        let options = PlanOptions {
            python: python("3.10"),
            ..PlanOptions::default()
        };
        let planned = plan(&registry, &installed(&[("flask", "3.0.0")]), &options).unwrap();
        assert!(requirements(&planned)
            .iter()
            .any(|line| line.contains("-flask")));
    }

    /// The bundled registry, for every Python the tool meets: the release chosen for a
    /// bare environment is one that Python can install, and the newest such.
    #[test]
    fn the_bundled_registry_chooses_per_python() {
        let registry = Registry::bundled();
        let mut chosen = Vec::new();
        for text in ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14"] {
            let options = PlanOptions {
                python: python(text),
                ..PlanOptions::default()
            };
            let planned = plan(&registry, &installed(&[]), &options).unwrap();
            let release = registry.load(planned.release_version()).unwrap();
            assert!(release.supports_python(options.python.as_ref()), "{text}");
            for newer in registry
                .versions()
                .filter(|version| **version > release.version)
            {
                let newer = registry.load(newer).unwrap();
                assert!(
                    newer.is_partial() || !newer.supports_python(options.python.as_ref()),
                    "{text}: {} is newer, complete and supported",
                    newer.raw_version
                );
            }
            chosen.push(format!("{text}: {}", planned.release));
        }
        insta::assert_debug_snapshot!(chosen);
    }

    /// The plan works from the resolved input alone: the resolve step reads the target's
    /// `bootstrap_gen.py` once; with the target gone, planning (twice, as the pipeline
    /// may) gives the derived release; an unresolved registry never makes one.
    #[test]
    fn the_plan_works_from_the_resolved_input_alone() {
        use crate::registry::resolve::{resolve, Request};
        let site = tempfile::tempdir().unwrap();
        let info = site
            .path()
            .join("opentelemetry_instrumentation-2.0b0.dist-info");
        std::fs::create_dir_all(&info).unwrap();
        std::fs::write(
            info.join("METADATA"),
            "Metadata-Version: 2.1\nName: opentelemetry-instrumentation\nVersion: 2.0b0\n\n",
        )
        .unwrap();
        let package = site.path().join("opentelemetry/instrumentation");
        std::fs::create_dir_all(&package).unwrap();
        std::fs::write(
            package.join("bootstrap_gen.py"),
            r#"libraries = [
    {"library": "flask >= 1.0", "instrumentation": "opentelemetry-instrumentation-flask==2.0b0"},
    {"library": "newdb >= 1.0", "instrumentation": "opentelemetry-instrumentation-newdb==2.0b0"},
]
default_instrumentations = ["opentelemetry-instrumentation-asyncio==2.0b0"]
"#,
        )
        .unwrap();
        let installed = Installed::from_distributions(
            [
                (INSTRUMENTATION_PROJECT, "2.0b0", info.clone()),
                ("flask", "3.0.0", site.path().join("flask-3.0.0.dist-info")),
                ("newdb", "1.2", site.path().join("newdb-1.2.dist-info")),
                (SDK_PROJECT, "1.45.1", site.path().join("sdk.dist-info")),
            ]
            .into_iter()
            .map(|(name, version, path)| InstalledDistribution {
                name: crate::requirement::PackageName::new(name.to_owned()).unwrap(),
                raw_version: version.to_owned(),
                version: crate::requirement::parse_version(version),
                path,
            }),
        );

        let unresolved = plan(&registry(), &installed, &PlanOptions::default()).unwrap();
        assert_eq!(
            unresolved.release_choice,
            ReleaseChoice::NewerThanRegistry {
                installed: "2.0b0".to_owned()
            }
        );
        assert_ne!(unresolved.release, "2.0b0");
        assert!(unresolved
            .warnings
            .iter()
            .all(|warning| !warning.message.contains("derived")));

        let mut resolved = registry();
        let mut genai = None;
        resolve(
            &mut resolved,
            &mut genai,
            &Request::new(&installed, None, None, None),
        );
        drop(site);
        let planned = plan(&resolved, &installed, &PlanOptions::default()).unwrap();
        assert_eq!(planned.release, "2.0b0");
        assert_eq!(
            requirements(&planned),
            [
                "opentelemetry-instrumentation-asyncio==2.0b0",
                "opentelemetry-instrumentation-flask==2.0b0",
                "opentelemetry-instrumentation-newdb==2.0b0",
            ]
        );
        assert!(resolved
            .source_text(&planned.version)
            .starts_with("derived:"));
        assert!(
            planned
                .warnings
                .iter()
                .any(|warning| warning.message.contains("derived its instrumentation list")),
            "{:?}",
            planned.warnings
        );
        assert_eq!(
            plan(&resolved, &installed, &PlanOptions::default()).unwrap(),
            planned
        );
    }
}
