//! The registry: which instrumentation package goes with which libraries, for every
//! `opentelemetry-instrumentation` release.
//!
//! The bundled registry is `data/releases/*.json`, embedded at build time (see `build.rs`
//! and `data/README.md` for the schema). A release's text is parsed only when a run needs
//! it. `--registry PATH` loads a custom registry in the same schema: a release file, or a
//! directory of them. Everything loaded is validated; errors name the file, the entry and
//! the field.

pub mod generate;

use std::borrow::Cow;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use pep440_rs::Version;
use pep508_rs::PackageName;
use serde::Deserialize;

use crate::requirement::{parse_name, parse_version, PlainRequirement};

include!(concat!(env!("OUT_DIR"), "/bundled_releases.rs"));

/// The schema version this build reads and writes.
pub const SCHEMA_VERSION: u64 = 1;

/// How a release file lists an instrumentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Always recommended.
    Default,
    /// Recommended when its libraries are installed.
    Library,
    /// Left out of bootstrap by upstream on purpose; recommended only with `--include`.
    OptIn,
}

/// One instrumentation package of a release.
#[derive(Debug, Clone)]
pub struct Instrumentation {
    pub name: PackageName,
    /// The requirement as printed (raw text, never re-rendered).
    pub requirement: PlainRequirement,
    pub kind: Kind,
    /// Whether a version satisfying `requirement` was published.
    pub published: bool,
    /// All of these must be installed within range.
    pub instruments: Vec<PlainRequirement>,
    /// When not empty, at least one of these must be installed within range.
    pub instruments_any: Vec<PlainRequirement>,
}

impl Instrumentation {
    /// The short name users type (`flask` for `opentelemetry-instrumentation-flask`).
    pub fn short_name(&self) -> &str {
        self.name
            .as_ref()
            .strip_prefix("opentelemetry-instrumentation-")
            .unwrap_or(self.name.as_ref())
    }
}

/// A core package released in lock-step with the instrumentations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorePackage {
    pub name: PackageName,
    pub version: Version,
    pub raw_version: String,
    pub published: bool,
}

/// One parsed and validated release.
#[derive(Debug, Clone)]
pub struct Release {
    pub version: Version,
    /// The release as written (`0.66b1`).
    pub raw_version: String,
    pub core: Vec<CorePackage>,
    pub instrumentations: Vec<Instrumentation>,
}

impl Release {
    /// A release is partial when an instrumentation bootstrap would recommend was never
    /// published at it (e.g. 0.66b2).
    pub fn is_partial(&self) -> bool {
        self.instrumentations.iter().any(|instrumentation| {
            instrumentation.kind != Kind::OptIn && !instrumentation.published
        })
    }

    /// The instrumentation named `name`: a project name or the short name (`flask`).
    pub fn find(&self, name: &str) -> Option<&Instrumentation> {
        let normalized = crate::requirement::normalize(name);
        self.instrumentations.iter().find(|instrumentation| {
            instrumentation.name.as_ref() == normalized
                || crate::requirement::normalize(instrumentation.short_name()) == normalized
        })
    }

    /// Every library name the release looks at.
    pub fn library_names(&self) -> impl Iterator<Item = &PackageName> {
        self.instrumentations.iter().flat_map(|instrumentation| {
            instrumentation
                .instruments
                .iter()
                .chain(&instrumentation.instruments_any)
                .map(|requirement| &requirement.name)
        })
    }
}

/// Where a registry came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistrySource {
    Bundled,
    Path(PathBuf),
}

/// A registry error: the file (or bundled release), where in it, and what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("cannot read registry `{path}`")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("registry `{origin}` is not valid: {message}")]
    Invalid { origin: String, message: String },
    #[error("registry `{0}` holds no release")]
    Empty(String),
    #[error("release `{requested}` is not in the registry (it has {available})")]
    UnknownRelease {
        requested: String,
        available: String,
    },
}

/// One unparsed release: its version (from the file name or its `release` field) and text.
#[derive(Debug, Clone)]
struct ReleaseText {
    version: Version,
    origin: String,
    text: Cow<'static, str>,
    /// The parsed release, once a run has needed it.
    parsed: OnceLock<Release>,
}

/// All releases of a registry, sorted by version, parsed on demand.
#[derive(Debug, Clone)]
pub struct Registry {
    source: RegistrySource,
    releases: Vec<ReleaseText>,
}

impl Registry {
    /// The registry embedded in the binary.
    pub fn bundled() -> Self {
        let mut releases: Vec<ReleaseText> = BUNDLED_RELEASES
            .iter()
            .filter_map(|(stem, text)| {
                Some(ReleaseText {
                    version: parse_version(stem)?,
                    origin: format!("data/releases/{stem}.json"),
                    text: Cow::Borrowed(*text),
                    parsed: OnceLock::new(),
                })
            })
            .collect();
        releases.sort_by(|left, right| left.version.cmp(&right.version));
        Self {
            source: RegistrySource::Bundled,
            releases,
        }
    }

    /// A registry from a release file or a directory of release files.
    pub fn from_path(path: &Path) -> Result<Self, RegistryError> {
        let read_error = |source| RegistryError::Read {
            path: path.to_path_buf(),
            source,
        };
        let status = std::fs::metadata(path).map_err(read_error)?;
        let files = if status.is_dir() {
            let mut files = Vec::new();
            for entry in std::fs::read_dir(path).map_err(read_error)? {
                let entry_path = entry.map_err(read_error)?.path();
                if entry_path
                    .extension()
                    .is_some_and(|extension| extension == "json")
                {
                    files.push(entry_path);
                }
            }
            files.sort();
            files
        } else {
            vec![path.to_path_buf()]
        };
        let mut releases = Vec::new();
        for file in files {
            let bytes = std::fs::read(&file).map_err(|source| RegistryError::Read {
                path: file.clone(),
                source,
            })?;
            let origin = file.display().to_string();
            let text = String::from_utf8(bytes).map_err(|error| RegistryError::Invalid {
                origin: origin.clone(),
                message: format!("not UTF-8 (at byte {})", error.utf8_error().valid_up_to()),
            })?;
            // Parse now: a custom registry is small, and errors should surface at once.
            let release = parse_release(&text, &origin)?;
            releases.push(ReleaseText {
                version: release.version.clone(),
                origin,
                text: Cow::Owned(text),
                parsed: OnceLock::from(release),
            });
        }
        if releases.is_empty() {
            return Err(RegistryError::Empty(path.display().to_string()));
        }
        releases.sort_by(|left, right| left.version.cmp(&right.version));
        if let Some(pair) = releases
            .windows(2)
            .find(|pair| pair[0].version == pair[1].version)
        {
            return Err(RegistryError::Invalid {
                origin: pair[1].origin.clone(),
                message: format!(
                    "release `{}` is also in `{}`",
                    pair[1].version, pair[0].origin
                ),
            });
        }
        Ok(Self {
            source: RegistrySource::Path(path.to_path_buf()),
            releases,
        })
    }

    /// A registry from release documents already in memory (`(origin, text)` pairs).
    pub fn from_texts(texts: &[(&str, &str)]) -> Result<Self, RegistryError> {
        let mut releases = Vec::with_capacity(texts.len());
        for (origin, text) in texts {
            let release = parse_release(text, origin)?;
            releases.push(ReleaseText {
                version: release.version.clone(),
                origin: (*origin).to_owned(),
                text: Cow::Owned((*text).to_owned()),
                parsed: OnceLock::from(release),
            });
        }
        releases.sort_by(|left, right| left.version.cmp(&right.version));
        Ok(Self {
            source: RegistrySource::Path(PathBuf::from("<memory>")),
            releases,
        })
    }

    pub fn source(&self) -> &RegistrySource {
        &self.source
    }

    /// The same registry, reported as coming from `source` (an overlay file).
    pub fn with_source(mut self, source: RegistrySource) -> Self {
        self.source = source;
        self
    }

    /// The versions of every release, oldest first.
    pub fn versions(&self) -> impl DoubleEndedIterator<Item = &Version> + ExactSizeIterator {
        self.releases.iter().map(|release| &release.version)
    }

    /// The release `version`, parsed on first use.
    pub fn load(&self, version: &Version) -> Result<&Release, RegistryError> {
        let entry = self
            .releases
            .iter()
            .find(|release| &release.version == version)
            .ok_or_else(|| self.unknown_release(&version.to_string()))?;
        if let Some(release) = entry.parsed.get() {
            return Ok(release);
        }
        let release = parse_release(&entry.text, &entry.origin)?;
        Ok(entry.parsed.get_or_init(|| release))
    }

    /// The error for a release that is not here, listing what is.
    pub fn unknown_release(&self, requested: &str) -> RegistryError {
        RegistryError::UnknownRelease {
            requested: requested.to_owned(),
            available: self.describe_range(),
        }
    }

    /// `0.41b0 to 0.66b2 (27 releases)`, or the single release.
    pub fn describe_range(&self) -> String {
        match (self.releases.first(), self.releases.last()) {
            (Some(first), Some(last)) if self.releases.len() > 1 => format!(
                "`{}` to `{}`, {} releases",
                first.version,
                last.version,
                self.releases.len()
            ),
            (Some(only), _) => format!("only `{}`", only.version),
            _ => "no release".to_owned(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReleaseFile {
    schema: u64,
    release: String,
    #[serde(default)]
    core: Vec<CoreFile>,
    instrumentations: Vec<InstrumentationFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CoreFile {
    name: String,
    version: String,
    #[serde(default = "yes")]
    published: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InstrumentationFile {
    name: String,
    requirement: String,
    kind: Kind,
    #[serde(default = "yes")]
    published: bool,
    #[serde(default)]
    instruments: Vec<String>,
    #[serde(default)]
    instruments_any: Vec<String>,
}

fn yes() -> bool {
    true
}

/// Parses and validates one release file.
fn parse_release(text: &str, origin: &str) -> Result<Release, RegistryError> {
    let invalid = |message: String| RegistryError::Invalid {
        origin: origin.to_owned(),
        message,
    };
    let file: ReleaseFile =
        serde_json::from_str(text).map_err(|error| invalid(error.to_string()))?;
    if file.schema != SCHEMA_VERSION {
        return Err(invalid(format!(
            "`schema` is {}, this build reads {SCHEMA_VERSION}",
            file.schema
        )));
    }
    let version = parse_version(&file.release).ok_or_else(|| {
        invalid(format!(
            "`release`: `{}` is not a PEP 440 version",
            file.release
        ))
    })?;

    let mut core = Vec::with_capacity(file.core.len());
    for (index, package) in file.core.into_iter().enumerate() {
        let name = parse_name(&package.name).ok_or_else(|| {
            invalid(format!(
                "`core[{index}].name`: `{}` is not a valid name",
                package.name
            ))
        })?;
        let package_version = parse_version(&package.version).ok_or_else(|| {
            invalid(format!(
                "`core[{index}].version`: `{}` is not a PEP 440 version",
                package.version
            ))
        })?;
        core.push(CorePackage {
            name,
            version: package_version,
            raw_version: package.version,
            published: package.published,
        });
    }

    let mut seen = HashSet::new();
    let mut instrumentations = Vec::with_capacity(file.instrumentations.len());
    for (index, entry) in file.instrumentations.into_iter().enumerate() {
        let place = |field: &str| format!("`instrumentations[{index}].{field}` (`{}`)", entry.name);
        let name = parse_name(&entry.name)
            .ok_or_else(|| invalid(format!("{}: not a valid project name", place("name"))))?;
        if !seen.insert(name.clone()) {
            return Err(invalid(format!("{}: listed twice", place("name"))));
        }
        let requirement = PlainRequirement::parse(&entry.requirement)
            .map_err(|error| invalid(format!("{}: {error}", place("requirement"))))?;
        if requirement.name != name {
            return Err(invalid(format!(
                "{}: names `{}`, not `{name}`",
                place("requirement"),
                requirement.name
            )));
        }
        let parse_list = |field: &str, list: &[String]| {
            list.iter()
                .map(|raw| {
                    PlainRequirement::parse(raw)
                        .map_err(|error| invalid(format!("{}: {error}", place(field))))
                })
                .collect::<Result<Vec<_>, _>>()
        };
        let instruments = parse_list("instruments", &entry.instruments)?;
        let instruments_any = parse_list("instruments_any", &entry.instruments_any)?;
        instrumentations.push(Instrumentation {
            name,
            requirement,
            kind: entry.kind,
            published: entry.published,
            instruments,
            instruments_any,
        });
    }
    if !instrumentations
        .iter()
        .any(|entry| entry.kind == Kind::Default)
        && !instrumentations
            .iter()
            .any(|entry| entry.kind == Kind::Library)
    {
        return Err(invalid(
            "`instrumentations`: the release lists no instrumentation".to_owned(),
        ));
    }
    Ok(Release {
        version,
        raw_version: file.release,
        core,
        instrumentations,
    })
}

impl Instrumentation {
    /// The entry as the registry file writes it (schema 1), raw strings kept.
    pub fn to_json(&self) -> serde_json::Value {
        let raw = |requirements: &[PlainRequirement]| -> Vec<String> {
            requirements
                .iter()
                .map(|requirement| requirement.raw.clone())
                .collect()
        };
        serde_json::json!({
            "name": self.name.to_string(),
            "requirement": self.requirement.raw,
            "kind": self.kind,
            "published": self.published,
            "instruments": raw(&self.instruments),
            "instruments_any": raw(&self.instruments_any),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_release_is_valid_and_complete() {
        let registry = Registry::bundled();
        assert!(registry.versions().len() >= 1, "no bundled release");
        for (stem, text) in BUNDLED_RELEASES {
            let release = parse_release(text, stem).unwrap_or_else(|error| panic!("{error}"));
            assert_eq!(
                release.raw_version, *stem,
                "file name and `release` disagree"
            );
            assert!(
                release
                    .instrumentations
                    .iter()
                    .any(|entry| entry.kind == Kind::Default),
                "{stem}: no default instrumentation"
            );
            let libraries: Vec<_> = release
                .instrumentations
                .iter()
                .filter(|entry| entry.kind == Kind::Library)
                .collect();
            assert!(
                libraries.len() > 10,
                "{stem}: too few library instrumentations"
            );
            for entry in &libraries {
                assert!(
                    !entry.instruments.is_empty() || !entry.instruments_any.is_empty(),
                    "{stem}: `{}` names no library",
                    entry.name
                );
            }
            // Defaults first, then libraries, then opt-ins.
            let kinds: Vec<_> = release
                .instrumentations
                .iter()
                .map(|entry| entry.kind)
                .collect();
            let mut sorted = kinds.clone();
            sorted.sort_by_key(|kind| match kind {
                Kind::Default => 0,
                Kind::Library => 1,
                Kind::OptIn => 2,
            });
            assert_eq!(kinds, sorted, "{stem}: instrumentations out of order");
            // Deterministic formatting: the file is what the generator would write.
            assert!(text.ends_with("}\n"), "{stem}: no trailing newline");
            assert!(
                !text.contains('\t') && !text.contains('\r'),
                "{stem}: not canonical"
            );
        }
    }

    #[test]
    fn bundled_data_stays_small() {
        let total: usize = BUNDLED_RELEASES.iter().map(|(_, text)| text.len()).sum();
        assert!(total < 1024 * 1024, "bundled registry is {total} bytes");
    }

    fn release_with(entry: &str) -> String {
        format!(
            r#"{{"schema": 1, "release": "1.0b0", "instrumentations": [
                {{"name": "opentelemetry-instrumentation-asyncio", "requirement": "opentelemetry-instrumentation-asyncio==1.0b0", "kind": "default"}},
                {entry}
            ]}}"#
        )
    }

    fn error_of(text: &str) -> String {
        parse_release(text, "custom.json").unwrap_err().to_string()
    }

    #[test]
    fn errors_name_the_entry_and_the_field() {
        let message = error_of(&release_with(
            r#"{"name": "opentelemetry-instrumentation-foo", "requirement": "opentelemetry-instrumentation-foo==1.0b0", "kind": "library", "instruments": ["foo. >= 1"]}"#,
        ));
        assert!(message.contains("custom.json"), "{message}");
        assert!(
            message.contains("instrumentations[1].instruments"),
            "{message}"
        );
        assert!(message.contains("foo. >= 1"), "{message}");

        let message = error_of(&release_with(
            r#"{"name": "opentelemetry-instrumentation-asyncio", "requirement": "opentelemetry-instrumentation-asyncio==1.0b0", "kind": "library"}"#,
        ));
        assert!(message.contains("listed twice"), "{message}");

        let message = error_of(&release_with(
            r#"{"name": "opentelemetry-instrumentation-foo", "requirement": "other==1", "kind": "library"}"#,
        ));
        assert!(message.contains("names `other`"), "{message}");

        let message = error_of(&release_with(
            r#"{"name": "x", "requirement": "x @ file:///etc/passwd", "kind": "library"}"#,
        ));
        assert!(message.contains("URL"), "{message}");

        assert!(error_of("{").contains("EOF"));
        assert!(
            error_of(r#"{"schema": 2, "release": "1", "instrumentations": []}"#).contains("schema")
        );
        assert!(
            error_of(r#"{"schema": 1, "release": "x.y", "instrumentations": []}"#)
                .contains("release")
        );
        assert!(
            error_of(r#"{"schema": 1, "release": "1", "instrumentations": [], "extra": 1}"#)
                .contains("unknown field")
        );
    }
}
