//! The registry: which instrumentation package goes with which libraries, for every
//! `opentelemetry-instrumentation` release.
//!
//! Sources, in order (see "Registry sources" in the README):
//!
//! 1. `--registry PATH`: a custom registry in the same schema (a release file, or a
//!    directory of them); replaces the next two.
//! 2. The user registry ([`user::user_registry_dir`]), written by `registry update` and by
//!    the index refresh ([`refresh`]); read when it knows a release the bundled one does
//!    not, and then its files win over the bundled ones of the same release.
//! 3. The bundled registry, `data/releases/*.json`, embedded at build time (see `build.rs`
//!    and `data/README.md` for the schema).
//! 4. For an installed release newer than all of these: the release learned from the index
//!    (only when allowed), else derived from the target's own `bootstrap_gen.py`
//!    ([`derive`]), else the newest known release re-pinned to it. That is the resolve
//!    step ([`resolve`]), which a job runs once before planning: it does the network and
//!    file I/O and hands the plan a registry that holds the made release
//!    ([`Registry::set_made`]).
//!
//! Every file is read when the registry is built or resolved; after that a registry does
//! no I/O, so the plan over it stays pure. A release's text is parsed only when a run
//! needs it. Everything loaded is validated; errors name the file, the entry and the
//! field. A bad user registry file is a warning and is skipped, never an error.

pub(crate) mod bootstrap_gen;
pub(crate) mod derive;
pub(crate) mod document;
pub(crate) mod fetch;
pub(crate) mod genai;
pub(crate) mod genai_generate;
pub mod generate;
pub(crate) mod names;
pub mod refresh;
pub(crate) mod resolve;
pub mod user;
pub(crate) mod wheel;

use std::borrow::Cow;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use crate::requirement::PackageName;
use crate::requirement::Version;
use crate::requirement::VersionSpecifiers;
use serde::Deserialize;

use crate::diagnostics::Warning;
use crate::requirement::{parse_name, parse_version, PlainRequirement};

include!(concat!(env!("OUT_DIR"), "/bundled_releases.rs"));

/// The schema version this build reads and writes.
pub(crate) const SCHEMA_VERSION: u64 = 1;

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
    /// The package's own `Requires-Python`, only when it differs from the release's
    /// (`None`: as the release).
    pub requires_python: Option<PythonRange>,
}

impl Instrumentation {
    /// Whether `name`, as `--exclude` / `--include` take it (`flask`, or the project name
    /// in any spelling), names this instrumentation.
    pub(crate) fn is_named(&self, name: &str) -> bool {
        is_named_normalized(&self.name, &crate::requirement::normalize(name))
    }
}

/// The short name users type: `flask` for `opentelemetry-instrumentation-flask`,
/// `genai-openai` for `opentelemetry-instrumentation-genai-openai`.
pub(crate) fn short_name(project: &PackageName) -> &str {
    project
        .as_ref()
        .strip_prefix("opentelemetry-instrumentation-")
        .unwrap_or(project.as_ref())
}

/// Whether an already normalized name is `project` or its short name. A `PackageName` is
/// normalized, and so is its short name: nothing is allocated.
pub(crate) fn is_named_normalized(project: &PackageName, normalized: &str) -> bool {
    normalized == project.as_ref() || normalized == short_name(project)
}

/// A `Requires-Python` range, as written and parsed (`>=3.9`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PythonRange {
    pub raw: String,
    pub specifiers: VersionSpecifiers,
}

impl PythonRange {
    /// `None` when `raw` is not a version range.
    pub(crate) fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        Some(Self {
            specifiers: crate::requirement::parse_specifiers(raw)?,
            raw: raw.to_owned(),
        })
    }

    /// Whether a Python of `python` can install a package that declares this range.
    /// `major.minor` (`3.9`, what `pyvenv.cfg` and `--python-version 3.9` say) stands for
    /// any `3.9.x`: it is admitted when `3.9.0` or a late `3.9.999` is (`>=3.8.1` admits
    /// `3.8`); a full `3.9.18` is compared as it is.
    pub(crate) fn admits(&self, python: &Version) -> bool {
        if python.release().len() >= 3 {
            return self.specifiers.contains(python);
        }
        let late = python
            .release()
            .iter()
            .chain(&[999])
            .map(ToString::to_string);
        let late = parse_version(&late.collect::<Vec<_>>().join("."));
        self.specifiers.contains(python) || late.is_some_and(|late| self.specifiers.contains(&late))
    }
}

/// The Python a target runs (`3.9` or `3.9.18`), as a version.
pub(crate) fn python_version(text: &str) -> Option<Version> {
    let version = parse_version(text.trim())?;
    (version.release().len() >= 2 && version.release()[0] >= 2).then_some(version)
}

/// `3.9` for any `3.9.x`: how messages name a Python.
pub(crate) fn python_label(python: &Version) -> String {
    let release = python.release();
    match release {
        [major, minor, ..] => format!("{major}.{minor}"),
        _ => python.to_string(),
    }
}

/// The project whose version names a release (`opentelemetry-instrumentation`).
pub(crate) const INSTRUMENTATION_PROJECT: &str = "opentelemetry-instrumentation";

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
    /// The file says it names packages outside the OpenTelemetry project on purpose
    /// (`"allow_other_names": true`; honoured only in a `--registry` file, see [`names`]).
    pub allow_other_names: bool,
    /// The `Requires-Python` of the release's `opentelemetry-instrumentation` wheel;
    /// `None`: unknown, taken as any Python.
    pub requires_python: Option<PythonRange>,
}

impl Release {
    /// Whether a target running `python` can install this release's core package
    /// (`None`: the target's Python is not known, which admits every release).
    pub(crate) fn supports_python(&self, python: Option<&Version>) -> bool {
        match (&self.requires_python, python) {
            (Some(range), Some(python)) => range.admits(python),
            _ => true,
        }
    }

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
        self.instrumentations
            .iter()
            .find(|instrumentation| is_named_normalized(&instrumentation.name, &normalized))
    }

    /// Every library name the release looks at.
    pub(crate) fn library_names(&self) -> impl Iterator<Item = &PackageName> {
        self.instrumentations.iter().flat_map(|instrumentation| {
            instrumentation
                .instruments
                .iter()
                .chain(&instrumentation.instruments_any)
                .map(|requirement| &requirement.name)
        })
    }
}

/// Where a registry came from: the bundled one (with the user registry over it when that
/// knows newer releases), or `--registry PATH`. For the source of one release, see
/// [`Registry::release_source`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RegistrySource {
    Bundled,
    Path(PathBuf),
}

/// Where one release came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReleaseSource {
    /// Embedded in the binary.
    Bundled,
    /// A file of `--registry PATH`.
    Flag(PathBuf),
    /// A file of the user registry.
    User(PathBuf),
    /// Learned from the index in this run, and not cached (no user registry directory).
    Index(String),
    /// Derived from the target's own `bootstrap_gen.py` (and installed metadata).
    Derived(PathBuf),
    /// The newest known release (named), re-pinned to the installed version.
    Projected(String),
}

impl std::fmt::Display for ReleaseSource {
    /// `bundled`, the `--registry` path, `user:<file>`, `index:<url>`,
    /// `derived:<bootstrap_gen.py>` or `projected:<release>`: the `registry.source` of the
    /// JSON document.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReleaseSource::Bundled => formatter.write_str("bundled"),
            ReleaseSource::Flag(path) => write!(formatter, "{}", path.display()),
            ReleaseSource::User(path) => write!(formatter, "user:{}", path.display()),
            ReleaseSource::Index(url) => write!(formatter, "index:{url}"),
            ReleaseSource::Derived(path) => write!(formatter, "derived:{}", path.display()),
            ReleaseSource::Projected(release) => write!(formatter, "projected:{release}"),
        }
    }
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

impl RegistryError {
    /// What to do about it, when there is something to do.
    pub(crate) fn hint(&self) -> Option<String> {
        match self {
            Self::UnknownRelease { requested, .. } => Some(format!(
                "`otel-bootstrap registry list` shows the known releases; a release published since this binary was built: `otel-bootstrap registry update --release {requested}`"
            )),
            _ => None,
        }
    }
}

/// One unparsed release: its version (from the file name or its `release` field) and text.
#[derive(Debug, Clone)]
struct ReleaseText {
    version: Version,
    origin: String,
    text: Cow<'static, str>,
    /// The parsed release, once a run has needed it.
    parsed: OnceLock<Release>,
    source: ReleaseSource,
    /// A user registry file over a bundled release, read when the registry was built and
    /// parsed only when the release is needed: its text (or why it could not be read),
    /// and the bundled release to use when it turns out to be bad.
    pending: Option<Result<String, String>>,
    fallback: Option<Box<ReleaseText>>,
}

impl ReleaseText {
    /// A release already parsed.
    fn ready(
        release: Release,
        origin: String,
        text: Cow<'static, str>,
        source: ReleaseSource,
    ) -> Self {
        Self {
            version: release.version.clone(),
            origin,
            text,
            parsed: OnceLock::from(release),
            source,
            pending: None,
            fallback: None,
        }
    }

    /// The parsed release, parsed on first use (no I/O: a user file's text was read with
    /// the registry); a bad user file is a warning and its bundled release is used
    /// instead.
    fn release(&self, warnings: &Mutex<Vec<Warning>>) -> Result<&Release, RegistryError> {
        if let Some(release) = self.parsed.get() {
            return Ok(release);
        }
        let parsed = match &self.pending {
            Some(text) => text
                .clone()
                .map_err(|message| RegistryError::Invalid {
                    origin: self.origin.clone(),
                    message,
                })
                .and_then(|text| parse_release(&text, &self.origin))
                .map(|release| {
                    let (release, warning) = names::screen(release, &self.origin, false);
                    if let (Some(warning), Ok(mut warnings)) = (warning, warnings.lock()) {
                        warnings.push(warning);
                    }
                    release
                }),
            None => parse_release(&self.text, &self.origin),
        };
        let parsed = parsed.and_then(|release| {
            if release.version == self.version {
                Ok(release)
            } else {
                Err(RegistryError::Invalid {
                    origin: self.origin.clone(),
                    message: format!("it holds release `{}`", release.raw_version),
                })
            }
        });
        match (parsed, &self.fallback) {
            (Ok(release), _) => Ok(self.parsed.get_or_init(|| release)),
            (Err(error), Some(fallback)) => {
                if let Ok(mut warnings) = warnings.lock() {
                    let stem = Path::new(&self.origin)
                        .file_stem()
                        .and_then(|stem| stem.to_str())
                        .unwrap_or("");
                    warnings.push(user::ignored(
                        &self.origin,
                        &error.to_string(),
                        &user::rewrite(stem),
                    ));
                }
                fallback.release(warnings)
            }
            (Err(error), None) => Err(error),
        }
    }

    /// Where the release used came from (the bundled one when a user file was bad).
    fn used_source(&self) -> &ReleaseSource {
        match &self.fallback {
            Some(fallback) if self.parsed.get().is_none() && fallback.parsed.get().is_some() => {
                fallback.used_source()
            }
            _ => &self.source,
        }
    }
}

/// A release no source holds, made by the resolve step ([`resolve`]): learned from the
/// index, derived from the target or re-pinned; and the warnings of making it (or of
/// failing to).
#[derive(Debug, Clone, Default)]
pub(crate) struct Made {
    release: Option<ReleaseText>,
    warnings: Vec<Warning>,
}

impl Made {
    /// The version of the release made, if one was.
    pub(crate) fn version(&self) -> Option<&Version> {
        self.release.as_ref().map(|release| &release.version)
    }
}

/// All releases of a registry, sorted by version, parsed on demand.
#[derive(Debug, Clone)]
pub struct Registry {
    source: RegistrySource,
    releases: Vec<ReleaseText>,
    /// Problems met while loading (a bad user registry file).
    warnings: Vec<Warning>,
    /// Where learned releases are cached (the user registry directory).
    user_dir: Option<PathBuf>,
    /// What the resolve step made: a release for an installed (or requested) version no
    /// source holds, and the warnings of the resolve step.
    made: Made,
    /// Problems met while parsing user files on demand (a memo of pure parsing: no I/O).
    lazy_warnings: Arc<Mutex<Vec<Warning>>>,
}

impl Registry {
    /// The registry embedded in the binary.
    pub(crate) fn bundled() -> Self {
        let mut releases: Vec<ReleaseText> = BUNDLED_RELEASES
            .iter()
            .filter_map(|(stem, text)| {
                Some(ReleaseText {
                    version: parse_version(stem)?,
                    origin: format!("data/releases/{stem}.json"),
                    text: Cow::Borrowed(*text),
                    parsed: OnceLock::new(),
                    source: ReleaseSource::Bundled,
                    pending: None,
                    fallback: None,
                })
            })
            .collect();
        releases.sort_by(|left, right| left.version.cmp(&right.version));
        Self::with_releases(RegistrySource::Bundled, releases)
    }

    fn with_releases(source: RegistrySource, releases: Vec<ReleaseText>) -> Self {
        Self {
            source,
            releases,
            warnings: Vec::new(),
            user_dir: None,
            made: Made::default(),
            lazy_warnings: Arc::default(),
        }
    }

    /// The registry a run uses without `--registry`: the bundled one, with the user
    /// registry in `user_dir` over it when that knows a release the bundled one does not
    /// (its files then win for the releases both have). Bad user files are warnings.
    pub fn standard(user_dir: Option<&Path>) -> Self {
        let mut registry = Self::bundled();
        registry.user_dir = user_dir.map(Path::to_path_buf);
        let Some(directory) = user_dir else {
            return registry;
        };
        let bundled: Vec<Version> = registry.versions().cloned().collect();
        let Some(user) = user::load(directory, &bundled) else {
            return registry;
        };
        registry.warnings = user.warnings;
        for release in user.newer {
            registry.releases.push(release);
        }
        for (version, path) in user.overlapping {
            if let Some(existing) = registry
                .releases
                .iter_mut()
                .find(|existing| existing.version == version)
            {
                let bundled = std::mem::replace(
                    existing,
                    ReleaseText {
                        version,
                        origin: path.display().to_string(),
                        text: Cow::Borrowed(""),
                        parsed: OnceLock::new(),
                        source: ReleaseSource::User(path.clone()),
                        pending: Some(user::read_bounded(&path)),
                        fallback: None,
                    },
                );
                existing.fallback = Some(Box::new(bundled));
            }
        }
        registry
            .releases
            .sort_by(|left, right| left.version.cmp(&right.version));
        registry
    }

    /// Where learned releases are cached, if anywhere.
    pub(crate) fn user_dir(&self) -> Option<&Path> {
        self.user_dir.as_deref()
    }

    /// Sets where learned releases are cached.
    pub(crate) fn set_user_dir(&mut self, user_dir: Option<PathBuf>) {
        self.user_dir = user_dir;
    }

    /// Adds warnings met while loading something beside the releases (the GenAI family).
    pub(crate) fn add_warnings(&mut self, warnings: Vec<Warning>) {
        self.warnings.extend(warnings);
    }

    /// Problems met while loading, and those of the resolve step (making a release for a
    /// newer installed one, learning the GenAI family).
    pub fn warnings(&self) -> Vec<Warning> {
        let mut warnings = self.warnings.clone();
        if let Ok(lazy) = self.lazy_warnings.lock() {
            warnings.extend(lazy.iter().cloned());
        }
        warnings.extend(self.made.warnings.iter().cloned());
        // They quote registry files, `bootstrap_gen.py` strings and paths: escaped.
        for warning in &mut warnings {
            if let std::borrow::Cow::Owned(clean) =
                crate::sanitize::sanitize_lines(&warning.message)
            {
                warning.message = clean;
            }
        }
        let mut seen = HashSet::new();
        warnings.retain(|warning| seen.insert(warning.message.clone()));
        warnings
    }

    /// Adds problems found while building this registry (an overlay's refused names).
    pub(crate) fn with_warnings(mut self, warnings: Vec<Warning>) -> Self {
        self.warnings.extend(warnings);
        self
    }

    /// Where `version` came from, if the registry has it.
    pub(crate) fn release_source(&self, version: &Version) -> Option<&ReleaseSource> {
        self.entry(version).map(ReleaseText::used_source)
    }

    /// [`Self::release_source`] as the JSON document and `-v` say it (`bundled` when unknown).
    pub(crate) fn source_text(&self, version: &Version) -> String {
        self.release_source(version)
            .map_or_else(|| "bundled".to_owned(), ToString::to_string)
    }

    /// Whether a source holds `version` (a release made for a newer installed version is
    /// not known).
    pub(crate) fn knows(&self, version: &Version) -> bool {
        self.releases
            .iter()
            .any(|release| &release.version == version)
    }

    /// The newest release the sources themselves hold (never a synthesized one).
    pub(crate) fn newest_known(&self) -> Option<&Version> {
        self.releases.last().map(|release| &release.version)
    }

    /// Records what the resolve step made ([`resolve`]): its release (if any) joins the
    /// others, after every source's, and its warnings follow the loading ones.
    pub(crate) fn set_made(&mut self, made: Made) {
        self.made = made;
    }

    /// The release the resolve step made for `version` (an installed or requested one no
    /// source holds), if it made one.
    pub(crate) fn made_for(&self, version: &Version) -> Option<&Version> {
        self.made.version().filter(|made| *made == version)
    }

    fn entry(&self, version: &Version) -> Option<&ReleaseText> {
        self.releases
            .iter()
            .find(|release| &release.version == version)
            .or_else(|| {
                self.made
                    .release
                    .as_ref()
                    .filter(|release| &release.version == version)
            })
    }

    /// A registry from a release file or a directory of release files (at most
    /// [`user::MAXIMUM_FILES`] of them), each read by [`crate::untrusted`] (regular files
    /// of at most [`crate::untrusted::REGISTRY_CAP`]). Packages outside the OpenTelemetry
    /// project are dropped with a warning unless the file sets `allow_other_names`
    /// ([`names`]).
    pub(crate) fn from_path(path: &Path) -> Result<Self, RegistryError> {
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
                    if files.len() == user::MAXIMUM_FILES {
                        return Err(RegistryError::Invalid {
                            origin: path.display().to_string(),
                            message: format!(
                                "it holds more than {} release files",
                                user::MAXIMUM_FILES
                            ),
                        });
                    }
                    files.push(entry_path);
                }
            }
            files.sort();
            files
        } else {
            vec![path.to_path_buf()]
        };
        let mut releases = Vec::new();
        let mut warnings = Vec::new();
        for file in files {
            let origin = file.display().to_string();
            let text = crate::untrusted::read_text(&file, crate::untrusted::FileKind::Registry)
                .map_err(|error| RegistryError::Invalid {
                    origin: crate::sanitize::sanitize(&origin).into_owned(),
                    message: error.to_string(),
                })?;
            // Parse now: a custom registry is small, and errors should surface at once.
            let (release, warning) = names::screen(parse_release(&text, &origin)?, &origin, true);
            warnings.extend(warning);
            releases.push(ReleaseText::ready(
                release,
                origin,
                Cow::Owned(text),
                ReleaseSource::Flag(file),
            ));
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
        Ok(
            Self::with_releases(RegistrySource::Path(path.to_path_buf()), releases)
                .with_warnings(warnings),
        )
    }

    /// A registry from release documents already in memory (`(origin, text)` pairs).
    pub(crate) fn from_texts(texts: &[(&str, &str)]) -> Result<Self, RegistryError> {
        let mut releases = Vec::with_capacity(texts.len());
        for (origin, text) in texts {
            let release = parse_release(text, origin)?;
            releases.push(ReleaseText::ready(
                release,
                (*origin).to_owned(),
                Cow::Owned((*text).to_owned()),
                ReleaseSource::Flag(PathBuf::from(*origin)),
            ));
        }
        releases.sort_by(|left, right| left.version.cmp(&right.version));
        Ok(Self::with_releases(
            RegistrySource::Path(PathBuf::from("<memory>")),
            releases,
        ))
    }

    pub(crate) fn source(&self) -> &RegistrySource {
        &self.source
    }

    /// The same registry, reported as coming from `source` (an overlay file).
    pub(crate) fn with_source(mut self, source: RegistrySource) -> Self {
        self.source = source;
        self
    }

    /// The versions of every release, oldest first (with the release the resolve step
    /// made last, when it made one).
    pub(crate) fn versions(&self) -> impl DoubleEndedIterator<Item = &Version> + ExactSizeIterator {
        self.releases
            .iter()
            .chain(self.made.release.as_ref())
            .map(|release| &release.version)
            .collect::<Vec<_>>()
            .into_iter()
    }

    /// The release `version`, parsed on first use.
    pub fn load(&self, version: &Version) -> Result<&Release, RegistryError> {
        let entry = self
            .entry(version)
            .ok_or_else(|| self.unknown_release(&version.to_string()))?;
        entry.release(&self.lazy_warnings)
    }

    /// The error for a release that is not here, listing what is.
    pub(crate) fn unknown_release(&self, requested: &str) -> RegistryError {
        RegistryError::UnknownRelease {
            requested: requested.to_owned(),
            available: self.describe_range(),
        }
    }

    /// `0.41b0 to 0.66b2 (27 releases)`, or the single release.
    pub(crate) fn describe_range(&self) -> String {
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

/// Parses and validates one release file.
pub(crate) fn parse_release(text: &str, origin: &str) -> Result<Release, RegistryError> {
    // Messages quote the file: escaped before they can reach a terminal.
    let invalid = |message: String| RegistryError::Invalid {
        origin: crate::sanitize::sanitize(origin).into_owned(),
        message: crate::sanitize::sanitize(&message).into_owned(),
    };
    let file =
        document::ReleaseDocument::from_json(text).map_err(|error| invalid(error.to_string()))?;
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

    let parse_python = |field: String, raw: Option<&String>| {
        raw.map(|raw| {
            PythonRange::parse(raw)
                .ok_or_else(|| invalid(format!("{field}: `{raw}` is not a version range")))
        })
        .transpose()
    };
    let requires_python = parse_python(
        "`requires_python`".to_owned(),
        file.requires_python.as_ref(),
    )?;

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
        let requires_python =
            parse_python(place("requires_python"), entry.requires_python.as_ref())?;
        instrumentations.push(Instrumentation {
            name,
            requirement,
            kind: entry.kind,
            published: entry.published,
            instruments,
            instruments_any,
            requires_python,
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
        allow_other_names: file.allow_other_names,
        requires_python,
    })
}

impl Instrumentation {
    /// The entry as a release file holds it (raw strings kept).
    pub(crate) fn to_document(&self) -> document::InstrumentationDocument {
        document::InstrumentationDocument {
            name: self.name.to_string(),
            requirement: self.requirement.raw.clone(),
            kind: self.kind,
            published: self.published,
            requires_python: self.requires_python.as_ref().map(|range| range.raw.clone()),
            instruments: raw_requirements(&self.instruments),
            instruments_any: raw_requirements(&self.instruments_any),
        }
    }
}

impl Release {
    /// The release as a release file holds it (raw strings kept).
    pub(crate) fn to_document(&self) -> document::ReleaseDocument {
        document::ReleaseDocument {
            schema: SCHEMA_VERSION,
            release: self.raw_version.clone(),
            requires_python: self.requires_python.as_ref().map(|range| range.raw.clone()),
            core: self
                .core
                .iter()
                .map(|package| document::CoreDocument {
                    name: package.name.to_string(),
                    version: package.raw_version.clone(),
                    published: package.published,
                })
                .collect(),
            instrumentations: self
                .instrumentations
                .iter()
                .map(Instrumentation::to_document)
                .collect(),
            allow_other_names: self.allow_other_names,
        }
    }
}

/// The requirements as written.
fn raw_requirements(requirements: &[PlainRequirement]) -> Vec<String> {
    requirements
        .iter()
        .map(|requirement| requirement.raw.clone())
        .collect()
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
