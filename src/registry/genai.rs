//! The GenAI instrumentation family (`opentelemetry-instrumentation-genai-*` and
//! `opentelemetry-util-genai`): published apart from the contrib release trains and
//! versioned on their own, so they are not in the release files. Two bundled documents:
//!
//! - `data/genai/packages.json`, generated from the index ([`super::genai_generate`]):
//!   every version of every family package with its `Requires-Python`, the core packages
//!   it requires (`opentelemetry-instrumentation`, `opentelemetry-api`, …) and the
//!   libraries of its `instruments` extra; and which `opentelemetry-api` each contrib
//!   release goes with (from `opentelemetry-semantic-conventions`, which pins it).
//! - `data/genai/choices.json`, written by hand: which packages form the family (the
//!   generator's input) and the "one instrumentation per library" table: where a contrib
//!   instrumentation and a family package instrument the same library, which one wins and
//!   why.
//!
//! A refreshed `packages.json` in the user registry (`<user registry>/genai/packages.json`,
//! written by `registry update-genai` and by the resolve step's learning, see
//! [`super::resolve`]) replaces the bundled one when it parses; a bad one is a warning. [`GenAi::newest_admitted`] is the version choice the plan makes: the newest
//! version whose core requirements admit the environment's release, API and Python.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::diagnostics::{Warning, WarningKind};
use crate::requirement::{
    normalize, parse_name, parse_specifiers, parse_version, PackageName, PlainRequirement, Version,
    VersionSpecifiers,
};

/// The schema version of both documents.
pub(crate) const GENAI_SCHEMA: u64 = 1;
/// The shared library every family package requires.
pub(crate) const UTIL_PROJECT: &str = "opentelemetry-util-genai";
/// The API package whose version goes with a contrib release.
pub(crate) const API_PROJECT: &str = "opentelemetry-api";
/// Core packages versioned like the contrib release (`0.66b1`).
const RELEASE_PROJECTS: &[&str] = &[
    "opentelemetry-instrumentation",
    "opentelemetry-semantic-conventions",
];
/// Core packages versioned like the API (`1.45.1`).
const API_PROJECTS: &[&str] = &["opentelemetry-api", "opentelemetry-sdk"];

const BUNDLED_PACKAGES: &str = include_str!("../../data/genai/packages.json");
const BUNDLED_CHOICES: &str = include_str!("../../data/genai/choices.json");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PackagesFile {
    pub(crate) schema: u64,
    /// Contrib release → the `opentelemetry-api` version it goes with.
    pub(crate) api_versions: BTreeMap<String, String>,
    pub(crate) util: PackageFile,
    pub(crate) packages: Vec<PackageFile>,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PackageFile {
    pub(crate) name: String,
    /// Newest first.
    pub(crate) versions: Vec<VersionFile>,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct VersionFile {
    pub(crate) version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) requires_python: Option<String>,
    /// Its `opentelemetry-*` requirements (no extra).
    pub(crate) requires: Vec<String>,
    /// Its `instruments` extra.
    pub(crate) instruments: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChoicesFile {
    schema: u64,
    family: Vec<String>,
    replaces: Vec<Replacement>,
}

/// One row of the "one instrumentation per library" table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Replacement {
    /// The contrib instrumentation that steps aside (`opentelemetry-instrumentation-openai-v2`).
    pub(crate) instrumentation: String,
    /// The family package that wins when it has a version for the environment.
    pub(crate) replaced_by: String,
    pub(crate) reason: String,
}

/// One version of a family package.
#[derive(Debug, Clone)]
pub(crate) struct PackageVersion {
    pub(crate) version: Version,
    pub(crate) raw_version: String,
    pub(crate) requires_python: Option<VersionSpecifiers>,
    pub(crate) requires_python_raw: Option<String>,
    pub(crate) requires: Vec<PlainRequirement>,
    pub(crate) instruments: Vec<PlainRequirement>,
}

/// A family package and its versions, newest first.
#[derive(Debug, Clone)]
pub(crate) struct Package {
    pub(crate) name: PackageName,
    pub(crate) versions: Vec<PackageVersion>,
}

impl Package {
    /// The package as `packages.json` holds it.
    pub(crate) fn to_file(&self) -> PackageFile {
        let raw = |list: &[PlainRequirement]| {
            list.iter()
                .map(|requirement| requirement.raw.clone())
                .collect()
        };
        PackageFile {
            name: self.name.to_string(),
            versions: self
                .versions
                .iter()
                .map(|version| VersionFile {
                    version: version.raw_version.clone(),
                    requires_python: version.requires_python_raw.clone(),
                    requires: raw(&version.requires),
                    instruments: raw(&version.instruments),
                })
                .collect(),
        }
    }

    /// Whether `name` (as `--exclude` / `--include` take it) names this package.
    pub(crate) fn is_named(&self, name: &str) -> bool {
        super::is_named_normalized(&self.name, &normalize(name))
    }
}

/// What a family package's core requirements are compared with.
#[derive(Debug, Clone)]
pub(crate) struct Core {
    /// The contrib release the plan uses (`0.66b1`).
    pub(crate) release: Version,
    /// The `opentelemetry-api` installed, else the one the release goes with; `None` when
    /// neither is known (then API ranges are not checked).
    pub(crate) api: Option<Version>,
    /// The environment's Python (`3.11`), when known.
    pub(crate) python: Option<Version>,
}

/// The family, parsed.
#[derive(Debug, Clone)]
pub(crate) struct GenAi {
    pub(crate) util: Package,
    pub(crate) packages: Vec<Package>,
    api_versions: Vec<(Version, Version)>,
    pub(crate) replaces: Vec<Replacement>,
    /// `bundled` or the user file's path.
    pub(crate) source: String,
}

/// The result of [`GenAi::newest_admitted`].
#[derive(Debug, Clone)]
pub(crate) enum Admitted<'a> {
    Version(&'a PackageVersion),
    /// No version admits the core: why the newest one does not (read by the tests; the
    /// plan says why in its own words).
    None(#[allow(dead_code)] String),
}

impl GenAi {
    /// The bundled documents (validated by a unit test, so this cannot fail in a build
    /// that passed its tests; an error is reported as an empty family).
    pub(crate) fn bundled() -> Self {
        Self::parse(BUNDLED_PACKAGES, BUNDLED_CHOICES, "bundled").unwrap_or_else(|_| Self {
            util: Package {
                name: parse_name(UTIL_PROJECT).expect("a valid name"),
                versions: Vec::new(),
            },
            packages: Vec::new(),
            api_versions: Vec::new(),
            replaces: Vec::new(),
            source: "bundled".to_owned(),
        })
    }

    /// The user registry's `genai/packages.json` over the bundled data when there is a
    /// valid one (see [`Self::over`]), else the bundled data; a bad user file is a warning.
    pub(crate) fn standard(user_dir: Option<&Path>) -> (Self, Vec<Warning>) {
        let Some(path) = user_dir.map(user_packages_path) else {
            return (Self::bundled(), Vec::new());
        };
        let text = match read_capped(&path) {
            Ok(Some(text)) => text,
            Ok(None) => return (Self::bundled(), Vec::new()),
            Err(reason) => return (Self::bundled(), vec![user_warning(&path, &reason)]),
        };
        match Self::parse(&text, BUNDLED_CHOICES, &path.display().to_string()) {
            Ok(genai) => (genai.over(Self::bundled()), Vec::new()),
            Err(reason) => (Self::bundled(), vec![user_warning(&path, &reason)]),
        }
    }

    /// This data (a user file, written by an older or a newer run) with what `under` (the
    /// bundled data) knows and it does not: versions of a package, a package, the API of
    /// a release. A user file written before this binary was built never hides the newer
    /// versions bundled with it; where both know a version, this data's entry is used.
    pub(crate) fn over(mut self, under: GenAi) -> Self {
        fn add(package: &mut Package, under: Package) {
            for version in under.versions {
                if !package
                    .versions
                    .iter()
                    .any(|known| known.version == version.version)
                {
                    package.versions.push(version);
                }
            }
            package
                .versions
                .sort_by(|left, right| right.version.cmp(&left.version));
        }
        add(&mut self.util, under.util);
        for package in under.packages {
            match self
                .packages
                .iter_mut()
                .find(|known| known.name == package.name)
            {
                Some(known) => add(known, package),
                None => self.packages.push(package),
            }
        }
        for (release, api) in under.api_versions {
            if !self.api_versions.iter().any(|(known, _)| *known == release) {
                self.api_versions.push((release, api));
            }
        }
        self.api_versions
            .sort_by(|left, right| left.0.cmp(&right.0));
        self
    }

    /// Parses and validates the two documents.
    pub(crate) fn parse(packages: &str, choices: &str, origin: &str) -> Result<Self, String> {
        let file: PackagesFile = serde_json::from_str(packages)
            .map_err(|error| format!("{origin}: not a GenAI packages document: {error}"))?;
        if file.schema != GENAI_SCHEMA {
            return Err(format!(
                "{origin}: schema {} (this build reads {GENAI_SCHEMA})",
                file.schema
            ));
        }
        let choices: ChoicesFile = serde_json::from_str(choices)
            .map_err(|error| format!("{origin}: not a GenAI choices document: {error}"))?;
        if choices.schema != GENAI_SCHEMA {
            return Err(format!("{origin}: choices schema {}", choices.schema));
        }
        let mut api_versions = Vec::new();
        for (release, api) in &file.api_versions {
            let parsed = parse_version(release)
                .zip(parse_version(api))
                .ok_or_else(|| format!("{origin}: api_versions `{release}`: `{api}`"))?;
            api_versions.push(parsed);
        }
        let util = parse_package(&file.util, origin)?;
        let packages = file
            .packages
            .iter()
            .map(|package| parse_package(package, origin))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            util,
            packages,
            api_versions,
            replaces: choices.replaces,
            source: origin.to_owned(),
        })
    }

    /// The package `name` (a project name or `genai-openai`).
    pub(crate) fn find(&self, name: &str) -> Option<&Package> {
        self.packages.iter().find(|package| package.is_named(name))
    }

    /// Whether the data knows `version` of `name` (a family package or the util library).
    pub(crate) fn knows(&self, name: &str, version: &Version) -> bool {
        let package = if normalize(name) == UTIL_PROJECT {
            Some(&self.util)
        } else {
            self.find(name)
        };
        package.is_some_and(|package| {
            package
                .versions
                .iter()
                .any(|known| &known.version == version)
        })
    }

    /// The names of the family packages and of the util library: what an environment may
    /// hold of the family.
    pub(crate) fn package_names(&self) -> impl Iterator<Item = &PackageName> {
        self.packages
            .iter()
            .map(|package| &package.name)
            .chain(std::iter::once(&self.util.name))
    }

    /// The contrib releases whose `opentelemetry-api` is known, oldest first.
    pub(crate) fn api_releases(&self) -> impl Iterator<Item = &Version> {
        self.api_versions.iter().map(|(release, _)| release)
    }

    /// The data as `packages.json` holds it (raw strings kept), for a refresh to build on.
    pub(crate) fn to_file(&self) -> (BTreeMap<String, String>, PackageFile, Vec<PackageFile>) {
        let api_versions = self
            .api_versions
            .iter()
            .map(|(release, api)| (release.to_string(), api.to_string()))
            .collect();
        (
            api_versions,
            self.util.to_file(),
            self.packages.iter().map(Package::to_file).collect(),
        )
    }

    /// The `opentelemetry-api` version `release` goes with.
    pub(crate) fn api_for_release(&self, release: &Version) -> Option<&Version> {
        self.api_versions
            .iter()
            .find(|(known, _)| known == release)
            .map(|(_, api)| api)
    }

    /// Every name the plan looks at for the family: libraries, packages, the util library
    /// and the API.
    pub(crate) fn wanted_names(&self) -> impl Iterator<Item = String> + '_ {
        self.packages
            .iter()
            .flat_map(|package| {
                package
                    .versions
                    .iter()
                    .flat_map(|version| &version.instruments)
                    .map(|requirement| requirement.name.to_string())
                    .chain(std::iter::once(package.name.to_string()))
            })
            .chain([UTIL_PROJECT.to_owned(), API_PROJECT.to_owned()])
    }

    /// Why `version` (of a family package, or of the util library) cannot go with `core`,
    /// or `None` when it can: Requires-Python, then each core requirement, then (for a
    /// package) whether some util version in its range can.
    pub(crate) fn refusal(&self, version: &PackageVersion, core: &Core) -> Option<String> {
        if let (Some(python), Some(range)) = (&core.python, &version.requires_python) {
            if !range.contains(python) {
                return Some(format!(
                    "needs Python {} (the environment has {python})",
                    version.requires_python_raw.as_deref().unwrap_or_default()
                ));
            }
        }
        for requirement in &version.requires {
            let name = requirement.name.as_ref();
            if RELEASE_PROJECTS.contains(&name) && !requirement.contains(&core.release) {
                return Some(format!(
                    "requires `{}`, which release {} is not",
                    requirement.raw, core.release
                ));
            }
            if API_PROJECTS.contains(&name) {
                if let Some(api) = &core.api {
                    if !requirement.contains(api) {
                        return Some(format!(
                            "requires `{}`, and the core is at {api}",
                            requirement.raw
                        ));
                    }
                }
            }
            if name == UTIL_PROJECT {
                let usable = self.util.versions.iter().any(|util| {
                    requirement.contains(&util.version) && self.refusal(util, core).is_none()
                });
                if !usable && !self.util.versions.is_empty() {
                    return Some(format!(
                        "requires `{}`, and no version of it goes with release {}",
                        requirement.raw, core.release
                    ));
                }
            }
        }
        None
    }

    /// The newest version of `package` that goes with `core` (never one that would move
    /// the core), or why the newest one does not.
    pub(crate) fn newest_admitted<'a>(&self, package: &'a Package, core: &Core) -> Admitted<'a> {
        let mut newest_refusal = None;
        for version in &package.versions {
            match self.refusal(version, core) {
                None => return Admitted::Version(version),
                Some(reason) => {
                    newest_refusal
                        .get_or_insert_with(|| format!("{} {reason}", version.raw_version));
                }
            }
        }
        Admitted::None(newest_refusal.unwrap_or_else(|| "no version is published".to_owned()))
    }
}

/// `<user registry>/genai/packages.json`.
pub(crate) fn user_packages_path(user_dir: &Path) -> PathBuf {
    user_dir.join("genai").join("packages.json")
}

fn user_warning(path: &Path, reason: &str) -> Warning {
    Warning::new(
        WarningKind::Release,
        format!(
            "ignoring the user GenAI registry `{}` ({reason}); using the bundled one",
            path.display()
        ),
    )
}

/// The user file's text (through the one hardened reader: a regular file, at most the
/// registry cap, UTF-8), `None` when there is none.
fn read_capped(path: &Path) -> Result<Option<String>, String> {
    if !path.exists() {
        return Ok(None);
    }
    super::user::read_bounded(path).map(Some)
}

fn parse_package(file: &PackageFile, origin: &str) -> Result<Package, String> {
    let name = parse_name(&file.name).ok_or_else(|| format!("{origin}: `{}`", file.name))?;
    let mut versions = Vec::new();
    for entry in &file.versions {
        let at = |field: &str, text: &str| {
            format!(
                "{origin}: {} {}: bad {field} `{text}`",
                file.name, entry.version
            )
        };
        let version = parse_version(&entry.version).ok_or_else(|| at("version", &entry.version))?;
        let requires_python = match &entry.requires_python {
            Some(text) => Some(parse_specifiers(text).ok_or_else(|| at("requires_python", text))?),
            None => None,
        };
        let parse_all = |list: &[String], field: &str| {
            list.iter()
                .map(|text| PlainRequirement::parse(text).map_err(|_| at(field, text)))
                .collect::<Result<Vec<_>, _>>()
        };
        versions.push(PackageVersion {
            version,
            raw_version: entry.version.clone(),
            requires_python,
            requires_python_raw: entry.requires_python.clone(),
            requires: parse_all(&entry.requires, "requires")?,
            instruments: parse_all(&entry.instruments, "instruments")?,
        });
    }
    versions.sort_by(|left, right| right.version.cmp(&left.version));
    Ok(Package { name, versions })
}

/// The bundled `choices.json`.
pub(crate) fn bundled_choices() -> &'static str {
    BUNDLED_CHOICES
}

/// The family's package names, from `choices.json` (the generator's input).
pub(crate) fn family_names() -> Vec<String> {
    serde_json::from_str::<ChoicesFile>(BUNDLED_CHOICES)
        .map(|choices| choices.family)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(text: &str) -> Version {
        parse_version(text).unwrap()
    }

    fn core(release: &str, api: Option<&str>, python: Option<&str>) -> Core {
        Core {
            release: version(release),
            api: api.map(version),
            python: python.map(version),
        }
    }

    fn pick(genai: &GenAi, name: &str, core: &Core) -> String {
        match genai.newest_admitted(genai.find(name).unwrap(), core) {
            Admitted::Version(found) => found.raw_version.clone(),
            Admitted::None(reason) => format!("none: {reason}"),
        }
    }

    #[test]
    fn the_bundled_documents_parse() {
        let genai = GenAi::parse(BUNDLED_PACKAGES, BUNDLED_CHOICES, "bundled").unwrap();
        assert!(genai.find("genai-openai").is_some());
        assert!(genai
            .find("opentelemetry-instrumentation-genai-anthropic")
            .is_some());
        assert!(!genai.util.versions.is_empty());
        for rule in &genai.replaces {
            assert!(genai.find(&rule.replaced_by).is_some(), "{rule:?}");
        }
        let names: Vec<String> = genai.packages.iter().map(|p| p.name.to_string()).collect();
        assert_eq!(names, family_names());
    }

    /// A small family: a package whose 2.0 needs release >= 0.64b0 and API ~=1.43 and
    /// whose 1.0 needs release ~=0.60b0 and API ~=1.39 (Python >= 3.9).
    fn small() -> GenAi {
        let packages = r#"{
          "schema": 1,
          "api_versions": {"0.60b0": "1.39.0", "0.64b0": "1.43.0", "0.66b1": "1.45.1"},
          "util": {"name": "opentelemetry-util-genai", "versions": [
            {"version": "1.0b0", "requires_python": ">=3.10", "requires": ["opentelemetry-api~=1.43", "opentelemetry-instrumentation<1,>=0.64b0"], "instruments": []},
            {"version": "0.4b0", "requires_python": ">=3.9", "requires": ["opentelemetry-api~=1.39", "opentelemetry-instrumentation~=0.60b0"], "instruments": []}
          ]},
          "packages": [{"name": "opentelemetry-instrumentation-genai-x", "versions": [
            {"version": "2.0b0", "requires_python": ">=3.10", "requires": ["opentelemetry-api~=1.43", "opentelemetry-instrumentation<1,>=0.64b0", "opentelemetry-util-genai<2,>=1.0b0"], "instruments": ["x>=1"]},
            {"version": "1.0b0", "requires_python": ">=3.9", "requires": ["opentelemetry-api~=1.39", "opentelemetry-instrumentation~=0.60b0", "opentelemetry-util-genai>=0.4b0"], "instruments": ["x>=1"]}
          ]}]
        }"#;
        let choices =
            r#"{"schema": 1, "family": ["opentelemetry-instrumentation-genai-x"], "replaces": []}"#;
        GenAi::parse(packages, choices, "test").unwrap()
    }

    #[test]
    fn the_newest_version_whose_core_admits_the_release() {
        let genai = small();
        // The newest release: the newest version.
        assert_eq!(
            pick(
                &genai,
                "genai-x",
                &core("0.66b1", Some("1.45.1"), Some("3.11"))
            ),
            "2.0b0"
        );
        // 0.64b0, its API from the table.
        let api = genai.api_for_release(&version("0.64b0")).cloned();
        assert_eq!(api, Some(version("1.43.0")));
        assert_eq!(
            pick(&genai, "genai-x", &core("0.64b0", Some("1.43.0"), None)),
            "2.0b0"
        );
        // 0.60b0 / 1.39: 2.0b0 would move the core; 1.0b0 goes with it.
        assert_eq!(
            pick(
                &genai,
                "genai-x",
                &core("0.60b0", Some("1.39.0"), Some("3.9"))
            ),
            "1.0b0"
        );
        // An API outside every range: nothing, and the reason names the newest version.
        assert_eq!(
            pick(&genai, "genai-x", &core("0.66b1", Some("2.0.0"), None)),
            "none: 2.0b0 requires `opentelemetry-api~=1.43`, and the core is at 2.0.0"
        );
        // A release too old for both.
        assert_eq!(
            pick(&genai, "genai-x", &core("0.55b0", None, None)),
            "none: 2.0b0 requires `opentelemetry-instrumentation<1,>=0.64b0`, which release 0.55b0 is not"
        );
    }

    #[test]
    fn python_and_the_util_library_count() {
        let genai = small();
        // Python 3.9 with the newest release: 2.0b0 needs 3.10; 1.0b0 (`~=0.60b0` admits
        // 0.66b1, `~=1.39` admits 1.45.1, its util 0.4b0 needs 3.9) goes with it.
        let python_3_9 = core("0.66b1", Some("1.45.1"), Some("3.9"));
        assert_eq!(pick(&genai, "genai-x", &python_3_9), "1.0b0");
        // Python 3.8: nothing.
        let python_3_8 = core("0.66b1", Some("1.45.1"), Some("3.8"));
        assert_eq!(
            pick(&genai, "genai-x", &python_3_8),
            "none: 2.0b0 needs Python >=3.10 (the environment has 3.8)"
        );
        // Python unknown: not checked.
        assert_eq!(
            pick(&genai, "genai-x", &core("0.66b1", None, None)),
            "2.0b0"
        );
    }

    #[test]
    fn names() {
        let genai = small();
        let package = genai.find("genai-x").unwrap();
        assert!(package.is_named("OpenTelemetry_Instrumentation_GenAI_X"));
        assert!(!package.is_named("x"));
        let wanted: Vec<String> = genai.wanted_names().collect();
        assert!(wanted.contains(&"x".to_owned()), "{wanted:?}");
        assert!(wanted.contains(&API_PROJECT.to_owned()));
    }

    #[test]
    fn a_user_file_adds_to_the_bundled_data() {
        // An older user file (it knows 1.0b0 only, and 3.0b0 which the bundled data does
        // not) over the bundled data (1.0b0 and 2.0b0): every version, newest first.
        let user = r#"{
          "schema": 1,
          "api_versions": {"0.60b0": "1.39.0"},
          "util": {"name": "opentelemetry-util-genai", "versions": []},
          "packages": [{"name": "opentelemetry-instrumentation-genai-x", "versions": [
            {"version": "3.0b0", "requires": [], "instruments": ["x>=2"]},
            {"version": "1.0b0", "requires": [], "instruments": ["x>=0"]}
          ]}]
        }"#;
        let choices =
            r#"{"schema": 1, "family": ["opentelemetry-instrumentation-genai-x"], "replaces": []}"#;
        let merged = GenAi::parse(user, choices, "user").unwrap().over(small());
        let package = merged.find("genai-x").unwrap();
        let versions: Vec<&str> = package
            .versions
            .iter()
            .map(|version| version.raw_version.as_str())
            .collect();
        assert_eq!(versions, ["3.0b0", "2.0b0", "1.0b0"]);
        // Where both know a version, the user file's entry wins.
        assert_eq!(package.versions[2].instruments[0].raw, "x>=0");
        assert_eq!(merged.util.versions.len(), 2);
        assert_eq!(
            merged.api_for_release(&version("0.66b1")),
            Some(&version("1.45.1"))
        );
        assert_eq!(merged.source, "user");
    }
}
