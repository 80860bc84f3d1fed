//! The resolve step: the registry's I/O a run needs, done once, before planning.
//!
//! A job scans the environment (or reads the lock), then calls [`resolve`] with what it
//! found and what the flags allow; the plan then works from the resolved registry and
//! GenAI data alone and does no I/O (see `plan`). What is decided here is pure
//! ([`release_step`], [`genai_trigger`]); what is done is the network and file work:
//!
//! - **A release no source holds.** `--otel-version V` for an unknown `V`: learned from
//!   the index when refreshing is allowed. An installed (or locked)
//!   `opentelemetry-instrumentation` newer than every release: learned from the index when
//!   allowed ([`super::refresh`]), else derived from the target's own `bootstrap_gen.py`
//!   ([`super::derive`]), else the newest known release re-pinned to it. Each step that
//!   fails is a warning and the next is tried.
//! - **The GenAI family.** When refreshing is allowed and the GenAI data cannot be trusted
//!   for this environment, the family is learned from the same index by the
//!   `registry update-genai` fetch ([`super::genai_generate::learn_genai`]), over the data
//!   the run has, and cached in the user registry (`<user registry>/genai/packages.json`).
//!   The triggers: a release was just learned from the index (it is newer than the data,
//!   so family versions that go with it may be newer too), or an installed family package
//!   (or `opentelemetry-util-genai`) is at a version the data does not know. A one-line
//!   warning says what was learned; a failure is a warning naming the index, and the data
//!   the run had is used.
//!
//! Refreshing is allowed with `-a install` (unless `--offline` or `--no-index`) and with
//! `--refresh`: the job says so by passing [`RefreshSettings`].

use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;

use super::genai::GenAi;
use super::refresh::RefreshSettings;
use super::{derive, names, parse_release, Made, Registry, ReleaseSource, ReleaseText};
use crate::diagnostics::{Warning, WarningKind};
use crate::requirement::Version;
use crate::scan::Installed;

/// The installed (or locked) `opentelemetry-instrumentation`.
#[derive(Debug, Clone, Copy)]
pub struct InstalledCore<'a> {
    pub version: &'a Version,
    /// The version as written in its metadata.
    pub raw_version: &'a str,
    /// Its `*.dist-info` (or the lock file's entry), beside which `bootstrap_gen.py` is
    /// looked for.
    pub path: &'a Path,
}

/// What the resolve step looks at.
#[derive(Debug, Clone, Default)]
pub struct Request<'a> {
    /// `--otel-version`.
    pub requested: Option<&'a Version>,
    pub core: Option<InstalledCore<'a>>,
    /// The installed (or locked) family packages and util library: name and version.
    pub genai_installed: Vec<(String, Version)>,
    /// Where to learn from; `None`: no network for this run.
    pub refresh: Option<&'a RefreshSettings>,
}

impl<'a> Request<'a> {
    /// The request for what `installed` holds (it must hold the names
    /// `opentelemetry-instrumentation` and, with `genai`, the family's).
    pub fn new(
        installed: &'a Installed,
        requested: Option<&'a Version>,
        genai: Option<&GenAi>,
        refresh: Option<&'a RefreshSettings>,
    ) -> Self {
        let core = installed
            .get_str(super::INSTRUMENTATION_PROJECT)
            .and_then(|distribution| {
                Some(InstalledCore {
                    version: distribution.version.as_ref()?,
                    raw_version: &distribution.raw_version,
                    path: &distribution.path,
                })
            });
        let genai_installed = genai
            .map(|genai| {
                genai
                    .package_names()
                    .filter_map(|name| {
                        let version = installed.get(name)?.version.clone()?;
                        Some((name.to_string(), version))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Self {
            requested,
            core,
            genai_installed,
            refresh,
        }
    }
}

/// What must be made for the release the plan will use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReleaseStep {
    /// A source holds it (or nothing can be done about it here).
    Nothing,
    /// `--otel-version` names a release no source holds, and refreshing is allowed.
    LearnRequested(Version),
    /// The installed `opentelemetry-instrumentation` is newer than every release.
    ForNewer,
}

/// Which release must be made, if any (pure).
pub fn release_step(registry: &Registry, request: &Request<'_>) -> ReleaseStep {
    if let Some(requested) = request.requested {
        let known = registry.versions().any(|version| version == requested);
        return if known || request.refresh.is_none() {
            ReleaseStep::Nothing
        } else {
            ReleaseStep::LearnRequested(requested.clone())
        };
    }
    match (&request.core, registry.newest_known()) {
        (Some(core), Some(newest)) if !registry.knows(core.version) && core.version > newest => {
            ReleaseStep::ForNewer
        }
        _ => ReleaseStep::Nothing,
    }
}

/// Why the GenAI data cannot be trusted for this environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GenAiTrigger {
    /// This release was just learned from the index.
    ReleaseLearned(String),
    /// This family package is installed at a version the data does not know.
    UnknownVersion { name: String, version: String },
}

/// Whether the GenAI family must be learned (pure; whether it may be is the caller's
/// [`Request::refresh`]): the release just learned, if one was, else the first installed
/// family package at a version `genai` does not know.
pub fn genai_trigger(
    genai: &GenAi,
    learned_release: Option<&str>,
    installed: &[(String, Version)],
) -> Option<GenAiTrigger> {
    if let Some(release) = learned_release {
        return Some(GenAiTrigger::ReleaseLearned(release.to_owned()));
    }
    installed
        .iter()
        .find(|(name, version)| !genai.knows(name, version))
        .map(|(name, version)| GenAiTrigger::UnknownVersion {
            name: name.clone(),
            version: version.to_string(),
        })
}

/// Runs the resolve step: makes the release `request` needs (its warnings join the
/// registry's) and, when a trigger fires and refreshing is allowed, learns the GenAI family
/// (replacing `genai`). Call it once, before planning.
pub fn resolve(registry: &mut Registry, genai: &mut Option<Arc<GenAi>>, request: &Request<'_>) {
    let mut warnings = Vec::new();
    let (release, learned) = match release_step(registry, request) {
        ReleaseStep::Nothing => (None, false),
        ReleaseStep::LearnRequested(version) => {
            let learned = request.refresh.and_then(|settings| {
                learn(
                    registry,
                    settings,
                    &version,
                    &version.to_string(),
                    &mut warnings,
                )
            });
            let was_learned = learned.is_some();
            (learned, was_learned)
        }
        ReleaseStep::ForNewer => match request.core {
            Some(core) => for_newer(registry, request.refresh, core, &mut warnings),
            None => (None, false),
        },
    };
    let learned_release = release
        .as_ref()
        .filter(|_| learned)
        .map(|release| release.version.to_string());
    let made = Made { release, warnings };
    let mut warnings = Vec::new();
    if let (Some(settings), Some(current)) = (request.refresh, genai.as_ref()) {
        if let Some(trigger) = genai_trigger(
            current,
            learned_release.as_deref(),
            &request.genai_installed,
        ) {
            let mut releases: Vec<String> = registry.versions().map(ToString::to_string).collect();
            releases.extend(made.version().map(ToString::to_string));
            if let Some(learned) =
                learn_genai(settings, current, &releases, registry, &trigger, &mut warnings)
            {
                *genai = Some(Arc::new(learned));
            }
        }
    }
    let mut made = made;
    made.warnings.extend(warnings);
    registry.set_made(made);
}

/// The family learned from the index, or `None` (the index adds nothing, or learning
/// failed: then a warning naming the index).
fn learn_genai(
    settings: &RefreshSettings,
    current: &GenAi,
    releases: &[String],
    registry: &Registry,
    trigger: &GenAiTrigger,
    warnings: &mut Vec<Warning>,
) -> Option<GenAi> {
    let path = registry.user_dir().map(super::genai::user_packages_path);
    let index = settings.index_url_redacted();
    match super::genai_generate::learn_genai(settings, current, releases, path.as_deref()) {
        Ok(Some(learned)) => {
            let why = match trigger {
                GenAiTrigger::ReleaseLearned(release) => {
                    format!("release `{release}` was just learned")
                }
                GenAiTrigger::UnknownVersion { name, version } => {
                    format!("the GenAI data does not know `{name}` {version}")
                }
            };
            let cached = path
                .map(|path| format!("; cached in `{}`", path.display()))
                .unwrap_or_default();
            warnings.push(Warning::new(
                WarningKind::Release,
                format!("{why}: learned the GenAI family from {index}{cached}"),
            ));
            Some(learned)
        }
        Ok(None) => None,
        Err(error) => {
            let using = if current.source == "bundled" {
                "the bundled GenAI data".to_owned()
            } else {
                format!("the GenAI data of `{}`", current.source)
            };
            warnings.push(Warning::new(
                WarningKind::Release,
                format!("could not learn the GenAI family from {index}: {error:#}; using {using}"),
            ));
            None
        }
    }
}

/// For an installed `opentelemetry-instrumentation` newer than every release of
/// `registry`, a release for exactly that version: learned from the index when allowed,
/// else derived from the installed `bootstrap_gen.py` next to its `*.dist-info`, else the
/// newest known release re-pinned to it. Each step that fails is a warning, and the next
/// is tried. `None` only for an empty registry. The flag: whether it was learned.
fn for_newer(
    registry: &Registry,
    refresh: Option<&RefreshSettings>,
    core: InstalledCore<'_>,
    warnings: &mut Vec<Warning>,
) -> (Option<ReleaseText>, bool) {
    let InstalledCore {
        version: installed,
        raw_version: raw_installed,
        path: distribution_path,
    } = core;
    let Some(newest) = registry.newest_known().cloned() else {
        return (None, false);
    };
    let Ok(base) = registry.load(&newest) else {
        return (None, false);
    };
    if let Some(settings) = refresh {
        if let Some(learned) = learn(registry, settings, installed, raw_installed, warnings) {
            return (Some(learned), true);
        }
    }
    let refresh_hint = format!(
        "run `otel-bootstrap registry update --release {raw_installed}` (or `-a install`, which learns it from the index) to know it exactly"
    );
    match derive::derive_from_target(base, installed, raw_installed, distribution_path) {
        Ok((json, path)) => {
            let origin = path.display().to_string();
            match parse_release(&json, &origin) {
                Ok(release) => {
                    let (release, refused) = names::screen(release, &origin, false);
                    warnings.extend(refused);
                    warnings.push(Warning::new(
                        WarningKind::Release,
                        format!(
                            "`opentelemetry-instrumentation` {raw_installed} is newer than every release in the registry (the newest is `{}`); derived its instrumentation list from `{origin}` and the installed instrumentations; {refresh_hint}",
                            base.raw_version
                        ),
                    ));
                    return (
                        Some(ReleaseText::ready(
                            release,
                            origin,
                            Cow::Owned(json),
                            ReleaseSource::Derived(path),
                        )),
                        false,
                    );
                }
                Err(error) => warnings.push(Warning::new(
                    WarningKind::Release,
                    format!("cannot use `{origin}`: {error}"),
                )),
            }
        }
        Err(derive::DeriveError::NotFound) => {}
        Err(derive::DeriveError::Invalid { path, reason }) => warnings.push(Warning::new(
            WarningKind::Release,
            format!(
                "cannot read the installed release's list `{}`: {reason}; falling back to the newest known release",
                path.display()
            ),
        )),
    }
    let json = derive::project(base, installed, raw_installed);
    let origin = format!("{} re-pinned to {raw_installed}", base.raw_version);
    match parse_release(&json, &origin) {
        Ok(release) => {
            warnings.push(Warning::new(
                WarningKind::Release,
                format!(
                    "`opentelemetry-instrumentation` {raw_installed} is newer than every release in the registry; using the instrumentation list of `{}` pinned to {raw_installed} (instrumentations new in {raw_installed} are missing); {refresh_hint}",
                    base.raw_version
                ),
            ));
            (
                Some(ReleaseText::ready(
                    release,
                    origin,
                    Cow::Owned(json),
                    ReleaseSource::Projected(base.raw_version.clone()),
                )),
                false,
            )
        }
        Err(_) => (None, false),
    }
}

/// `release` learned from the index (and cached in the user registry); a failure is a
/// warning naming the index.
fn learn(
    registry: &Registry,
    settings: &RefreshSettings,
    installed: &Version,
    raw_installed: &str,
    warnings: &mut Vec<Warning>,
) -> Option<ReleaseText> {
    match super::refresh::learn_release(settings, installed, registry.user_dir()) {
        Ok(learned) => match parse_release(&learned.json, &learned.origin) {
            Ok(release) => {
                let (release, refused) = names::screen(release, &learned.origin, false);
                warnings.extend(refused);
                Some(ReleaseText::ready(
                    release,
                    learned.origin.clone(),
                    Cow::Owned(learned.json),
                    learned.source,
                ))
            }
            Err(error) => {
                warnings.push(Warning::new(
                    WarningKind::Release,
                    format!("the release learned from the index is not valid: {error}"),
                ));
                None
            }
        },
        Err(error) => {
            warnings.push(Warning::new(
                WarningKind::Release,
                format!(
                    "could not learn release `{raw_installed}` from {}: {error:#}",
                    settings.index_url_redacted()
                ),
            ));
            None
        }
    }
}
