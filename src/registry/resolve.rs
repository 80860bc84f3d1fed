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
pub(crate) struct InstalledCore<'a> {
    pub(crate) version: &'a Version,
    /// The version as written in its metadata.
    pub(crate) raw_version: &'a str,
    /// Its `*.dist-info` (or the lock file's entry), beside which `bootstrap_gen.py` is
    /// looked for.
    pub(crate) path: &'a Path,
}

/// What the resolve step looks at.
#[derive(Debug, Clone, Default)]
pub(crate) struct Request<'a> {
    /// `--otel-version`.
    pub(crate) requested: Option<&'a Version>,
    pub(crate) core: Option<InstalledCore<'a>>,
    /// The installed (or locked) family packages and util library: name and version.
    pub(crate) genai_installed: Vec<(String, Version)>,
    /// Where to learn from; `None`: no network for this run.
    pub(crate) refresh: Option<&'a RefreshSettings>,
}

impl<'a> Request<'a> {
    /// The request for what `installed` holds (it must hold the names
    /// `opentelemetry-instrumentation` and, with `genai`, the family's).
    pub(crate) fn new(
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
pub(crate) enum ReleaseStep {
    /// A source holds it (or nothing can be done about it here).
    Nothing,
    /// `--otel-version` names a release no source holds, and refreshing is allowed.
    LearnRequested(Version),
    /// The installed `opentelemetry-instrumentation` is newer than every release.
    ForNewer,
}

/// Which release must be made, if any (pure).
pub(crate) fn release_step(registry: &Registry, request: &Request<'_>) -> ReleaseStep {
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
pub(crate) enum GenAiTrigger {
    /// This release was just learned from the index.
    ReleaseLearned(String),
    /// This family package is installed at a version the data does not know.
    UnknownVersion { name: String, version: String },
}

/// Whether the GenAI family must be learned (pure; whether it may be is the caller's
/// [`Request::refresh`]): the release just learned, if one was, else the first installed
/// family package at a version `genai` does not know.
pub(crate) fn genai_trigger(
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
pub(crate) fn resolve(
    registry: &mut Registry,
    genai: &mut Option<Arc<GenAi>>,
    request: &Request<'_>,
) {
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
            if let Some(learned) = learn_genai(
                settings,
                current,
                &releases,
                registry,
                &trigger,
                &mut warnings,
            ) {
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
        "run `otel-bootstrap registry update --release {raw_installed}` to know it exactly"
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::requirement::parse_version;

    fn version(text: &str) -> Version {
        parse_version(text).unwrap()
    }

    fn registry() -> Registry {
        let release = |version: &str| {
            format!(
                r#"{{"schema": 1, "release": "{version}", "instrumentations": [{{"name": "opentelemetry-instrumentation-asyncio", "requirement": "opentelemetry-instrumentation-asyncio=={version}", "kind": "default"}}]}}"#
            )
        };
        let (old, new) = (release("1.0b0"), release("1.1b0"));
        Registry::from_texts(&[("1.0b0.json", &old), ("1.1b0.json", &new)]).unwrap()
    }

    fn settings() -> RefreshSettings {
        RefreshSettings {
            index_url: "http://127.0.0.1:9/simple/".to_owned(),
            cache_dir: None,
        }
    }

    fn core<'a>(version: &'a Version) -> InstalledCore<'a> {
        InstalledCore {
            version,
            raw_version: "2.0b0",
            path: Path::new("/nowhere/opentelemetry_instrumentation.dist-info"),
        }
    }

    #[test]
    fn a_release_is_made_only_when_no_source_holds_it() {
        let registry = registry();
        let settings = settings();
        let step = |requested: Option<&Version>,
                    installed: Option<&Version>,
                    refresh: Option<&RefreshSettings>| {
            release_step(
                &registry,
                &Request {
                    requested,
                    core: installed.map(core),
                    refresh,
                    ..Request::default()
                },
            )
        };
        let (known, unknown, newer, between) = (
            version("1.0b0"),
            version("1.2b0"),
            version("2.0b0"),
            version("1.0b1"),
        );
        // `--otel-version`: only an unknown one, and only when refreshing is allowed; the
        // installed version is not looked at then.
        assert_eq!(
            step(Some(&known), None, Some(&settings)),
            ReleaseStep::Nothing
        );
        assert_eq!(
            step(Some(&unknown), Some(&newer), None),
            ReleaseStep::Nothing
        );
        assert_eq!(
            step(Some(&unknown), None, Some(&settings)),
            ReleaseStep::LearnRequested(unknown.clone())
        );
        // Installed: only newer than every release, with or without the network (then it
        // is derived or re-pinned).
        assert_eq!(step(None, Some(&newer), None), ReleaseStep::ForNewer);
        assert_eq!(
            step(None, Some(&known), Some(&settings)),
            ReleaseStep::Nothing
        );
        assert_eq!(
            step(None, Some(&between), Some(&settings)),
            ReleaseStep::Nothing
        );
        assert_eq!(step(None, None, Some(&settings)), ReleaseStep::Nothing);
    }

    #[test]
    fn the_genai_family_is_learned_when_its_data_cannot_be_trusted() {
        let genai = GenAi::bundled();
        let installed = |pairs: &[(&str, &str)]| -> Vec<(String, Version)> {
            pairs
                .iter()
                .map(|(name, text)| ((*name).to_owned(), version(text)))
                .collect()
        };
        let openai = "opentelemetry-instrumentation-genai-openai";
        // Versions the bundled data knows: nothing to learn.
        let known = installed(&[(openai, "1.3b0"), ("opentelemetry-util-genai", "1.3b0")]);
        assert_eq!(genai_trigger(&genai, None, &known), None);
        assert_eq!(genai_trigger(&genai, None, &[]), None);
        // A release just learned: always.
        assert_eq!(
            genai_trigger(&genai, Some("0.67b0"), &known),
            Some(GenAiTrigger::ReleaseLearned("0.67b0".to_owned()))
        );
        // A family package, or the util library, at a version the data does not know.
        assert_eq!(
            genai_trigger(&genai, None, &installed(&[(openai, "1.4b0")])),
            Some(GenAiTrigger::UnknownVersion {
                name: openai.to_owned(),
                version: "1.4b0".to_owned()
            })
        );
        assert_eq!(
            genai_trigger(
                &genai,
                None,
                &installed(&[(openai, "1.3b0"), ("opentelemetry-util-genai", "9.0b0")])
            ),
            Some(GenAiTrigger::UnknownVersion {
                name: "opentelemetry-util-genai".to_owned(),
                version: "9.0b0".to_owned()
            })
        );
    }

    #[test]
    fn without_refresh_nothing_is_learned() {
        // An installed family version the data does not know, and a release newer than
        // every one: without refresh settings the GenAI data stays and the release is
        // re-pinned (no `bootstrap_gen.py` at the path), without the network.
        let mut registry = registry();
        let bundled = Arc::new(GenAi::bundled());
        let mut genai = Some(Arc::clone(&bundled));
        let newer = version("2.0b0");
        let request = Request {
            core: Some(core(&newer)),
            genai_installed: vec![(
                "opentelemetry-instrumentation-genai-openai".to_owned(),
                version("1.4b0"),
            )],
            ..Request::default()
        };
        resolve(&mut registry, &mut genai, &request);
        assert!(genai.is_some_and(|genai| Arc::ptr_eq(&genai, &bundled)));
        assert_eq!(registry.made_for(&newer), Some(&newer));
        assert_eq!(
            registry.source_text(&newer),
            ReleaseSource::Projected("1.1b0".to_owned()).to_string()
        );
        let warnings = registry.warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].message.contains("pinned to 2.0b0"),
            "{warnings:?}"
        );
    }
}
