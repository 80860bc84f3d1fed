//! `--from FILE`: reading lock and requirements files instead of an environment.
//!
//! One module per format, each a pure parser of text (no I/O, no panics, errors naming
//! the file and line): [`requirements`] (`pip freeze`, `pip-compile`, `uv pip compile`),
//! [`uv`] (`uv.lock`), [`pylock`] (PEP 751 `pylock.toml`), [`poetry`] (`poetry.lock`),
//! [`pdm`] (`pdm.lock`) and [`pipfile`] (`Pipfile.lock`, JSON, read by [`json`]). A JSON
//! or TOML file is never read as a requirements file: one of an unknown kind is refused.
//! This module reads the files, detects their format, evaluates markers against the
//! [`marker::MarkerTarget`] and turns the packages into the [`Installed`] index the plan
//! reads, each entry's location naming the file and line it came from.

mod json;
pub mod marker;
pub(crate) mod pdm;
pub(crate) mod pipfile;
pub(crate) mod poetry;
pub(crate) mod pylock;
pub(crate) mod requirements;
mod tables;
pub(crate) mod uv;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::requirement::PackageName;
use crate::requirement::Version;

use crate::requirement::parse_version;
use crate::scan::{Installed, InstalledDistribution};
use marker::MarkerTarget;

/// One package a file says is installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LockedPackage {
    /// The normalized name.
    pub(crate) name: PackageName,
    /// The version as written (empty when the file gives none, e.g. a local project).
    pub(crate) raw_version: String,
    /// The parsed version; `None` when absent or not PEP 440.
    pub(crate) version: Option<Version>,
    /// Where the entry is.
    pub(crate) location: Location,
}

impl LockedPackage {
    /// The entry at `line` of `file`.
    pub(crate) fn at(name: PackageName, raw_version: &str, file: &Path, line: usize) -> Self {
        Self::new(
            name,
            raw_version,
            Location {
                file: file.to_owned(),
                line,
            },
        )
    }

    pub(crate) fn new(name: PackageName, raw_version: &str, location: Location) -> Self {
        Self {
            name,
            // Shown in skip reasons when it is not PEP 440: never with a credential.
            raw_version: redact(raw_version),
            version: parse_version(raw_version),
            location,
        }
    }
}

/// A file and a 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Location {
    pub(crate) file: PathBuf,
    pub(crate) line: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}:{}", self.file.display(), self.line)
    }
}

/// A file that cannot be used. Every variant names the file; the format errors name the
/// line (and the TOML key where there is one). Messages are built through the
/// constructors, which redact the credentials of any URL in them, and never hold the text
/// of a line that is not a requirement.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LockfileError {
    #[error("cannot read `{}`: {error}", path.display())]
    Unreadable {
        path: PathBuf,
        error: std::io::Error,
    },
    /// Refused by the policy for untrusted files (not a regular file, too large, not UTF-8).
    #[error("`{}`: {error}", path.display())]
    Refused {
        path: PathBuf,
        error: crate::untrusted::ReadError,
    },
    #[error("`{}` line {line}: {message}", path.display())]
    Malformed {
        path: PathBuf,
        line: usize,
        message: String,
        /// What to do, when something better than "fix the line" can be said.
        hint: Option<&'static str>,
    },
    #[error("`{}`: {message}", path.display())]
    Unusable { path: PathBuf, message: String },
    /// `--from DIR` or `--from pyproject.toml` and no lock file beside it.
    #[error("`{}`: no lock file found (looked for {})", path.display(), looked_for.iter().map(|file| format!("`{}`", file.display())).collect::<Vec<_>>().join(", "))]
    NoLockfile {
        path: PathBuf,
        looked_for: Vec<PathBuf>,
        /// The directory looked in, as given (relative to the current directory).
        directory: PathBuf,
        /// The tool of the project in that directory, when its files show it.
        tool: Option<crate::project::Tool>,
        /// A `requirements.txt` in that directory, when there is one.
        requirements: Option<PathBuf>,
    },
    /// The lock cannot serve the target the flags ask for.
    #[error("`{}`: {message}", path.display())]
    Unsupported {
        path: PathBuf,
        message: String,
        hint: String,
    },
}

impl LockfileError {
    pub(crate) fn malformed(path: &Path, line: usize, message: impl Into<String>) -> Self {
        Self::Malformed {
            path: path.to_owned(),
            line,
            message: redact(&message.into()),
            hint: None,
        }
    }

    pub(crate) fn malformed_with_hint(
        path: &Path,
        line: usize,
        message: impl Into<String>,
        hint: &'static str,
    ) -> Self {
        Self::Malformed {
            path: path.to_owned(),
            line,
            message: redact(&message.into()),
            hint: Some(hint),
        }
    }

    pub(crate) fn unusable(path: &Path, message: impl Into<String>) -> Self {
        Self::Unusable {
            path: path.to_owned(),
            message: redact(&message.into()),
        }
    }

    /// What to do about it, for the `hint:` line.
    pub(crate) fn hint(&self) -> Option<String> {
        match self {
            Self::Unreadable { error, .. } if error.kind() == std::io::ErrorKind::NotFound => {
                Some("check the path; a relative `--from` path is relative to the current directory, an include's to the including file".to_owned())
            }
            Self::Unreadable { .. } => None,
            Self::Refused { error, .. } => Some(match error {
                crate::untrusted::ReadError::TooLarge { .. } => {
                    "split the file, or check that it is the file you meant".to_owned()
                }
                crate::untrusted::ReadError::NotUtf8 { .. } => {
                    "save the file as UTF-8".to_owned()
                }
                crate::untrusted::ReadError::Io(_) => {
                    "check that the file can be read".to_owned()
                }
                _ => "name a regular file inside the project: devices, FIFOs, directories and files under /proc, /sys or /dev are never read".to_owned(),
            }),
            Self::Malformed {
                hint: Some(hint), ..
            } => Some((*hint).to_owned()),
            Self::Malformed { .. } => Some(
                "fix the line, or regenerate the file with the tool that wrote it".to_owned(),
            ),
            Self::Unusable { .. } => None,
            Self::NoLockfile {
                directory,
                tool,
                requirements,
                ..
            } => Some(no_lockfile_hint(directory, *tool, requirements.as_deref())),
            Self::Unsupported { hint, .. } => Some(hint.clone()),
        }
    }
}

/// What to do when `--from DIR` finds no lock: the project's own lock command, run in
/// `directory` (`cd 'DIR' && …` unless it is the current one), and the file to name.
/// Every path is as given, so relative to the current directory.
fn no_lockfile_hint(
    directory: &Path,
    tool: Option<crate::project::Tool>,
    requirements: Option<&Path>,
) -> String {
    use crate::project::{in_directory, Tool};
    let quoted = |path: &Path| crate::redact::quote(&path.display().to_string()).into_owned();
    let here = Path::new(".");
    let directory_text = if directory.as_os_str().is_empty() {
        here
    } else {
        directory
    };
    let requirements_text = match requirements {
        Some(file) => format!("name the requirements file: `--from {}`", quoted(file)),
        None => "name a requirements file with `--from FILE`".to_owned(),
    };
    match (tool, tool.and_then(Tool::lock_command)) {
        (Some(Tool::PipTools), Some(compile)) => format!(
            "compile the requirements with `{}`, then name them: `--from {}`",
            in_directory(compile, directory, here),
            quoted(&directory.join("requirements.txt"))
        ),
        (Some(_), Some(lock)) => format!(
            "create the lock with `{}`, then run this command again; or {requirements_text}",
            in_directory(lock, directory, here),
        ),
        (Some(tool), None) => format!(
            "a {tool} project keeps no lock file: plan from its environment (`otel-bootstrap --project {}`), or {requirements_text}",
            quoted(directory_text),
        ),
        (None, _) => format!(
            "create a lock with the project's tool{} (`uv lock`, `poetry lock`, `pdm lock`, `pipenv lock`, or `pip lock` for `pylock.toml`), or {requirements_text}",
            if directory_text == here {
                String::new()
            } else {
                format!(", run in `{}`", directory.display())
            },
        ),
    }
}

/// `text` with URL credentials replaced by `****`.
pub(crate) fn redact(text: &str) -> String {
    crate::untrusted::redact(text)
}

/// The formats `--from` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum FileFormat {
    Requirements,
    UvLock,
    Pylock,
    PoetryLock,
    PdmLock,
    PipfileLock,
}

impl FileFormat {
    /// From the file name, else from the content: a JSON object with `_meta`, `default`
    /// or `develop` is a Pipfile.lock; TOML with a `lock-version` is a pylock, with
    /// `[metadata] lock_version` a pdm.lock, with `[metadata]` a poetry.lock, with
    /// `[[package]]` a uv.lock. Other JSON or TOML is refused (never read as requirements,
    /// whatever its name); anything else is a requirements file.
    pub(crate) fn detect(path: &Path, text: &str) -> Result<Self, LockfileError> {
        let named = Self::from_name(path);
        if let Some(format) = named.filter(|format| *format != Self::Requirements) {
            return Ok(format);
        }
        let trimmed = text.trim_start();
        if trimmed.starts_with(['{', '[']) {
            // A requirement never starts with `{` or `[`: a JSON document or TOML.
            if let Ok(document) = json::parse(text) {
                if pipfile::looks_like(&document) {
                    return Ok(Self::PipfileLock);
                }
                return Err(unknown_document(path, "JSON"));
            }
            if trimmed.starts_with('{') {
                return Err(unknown_document(path, "JSON"));
            }
        }
        let Ok(table) = text.parse::<toml::Table>() else {
            return Ok(Self::Requirements);
        };
        if table.is_empty() {
            // Blank, or only comments: a requirements file with nothing in it.
            return Ok(Self::Requirements);
        }
        if table.contains_key("lock-version") {
            Ok(Self::Pylock)
        } else if pdm::looks_like(&table) {
            Ok(Self::PdmLock)
        } else if table.contains_key("metadata") && table.contains_key("package") {
            Ok(Self::PoetryLock)
        } else if table.contains_key("package") {
            Ok(Self::UvLock)
        } else {
            Err(unknown_document(path, "TOML"))
        }
    }

    /// From the file name alone, when it says.
    pub(crate) fn from_name(path: &Path) -> Option<Self> {
        let name = path
            .file_name()
            .map(|name| name.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        if name == "uv.lock" {
            return Some(Self::UvLock);
        }
        if name == "poetry.lock" {
            return Some(Self::PoetryLock);
        }
        if name == "pdm.lock" {
            return Some(Self::PdmLock);
        }
        if name == "pipfile.lock" {
            return Some(Self::PipfileLock);
        }
        if name == "pylock.toml" || (name.starts_with("pylock.") && name.ends_with(".toml")) {
            return Some(Self::Pylock);
        }
        if name.ends_with(".txt") || name.ends_with(".in") || name.starts_with("requirements") {
            return Some(Self::Requirements);
        }
        None
    }

    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Requirements => "requirements",
            Self::UvLock => "uv.lock",
            Self::Pylock => "pylock.toml",
            Self::PoetryLock => "poetry.lock",
            Self::PdmLock => "pdm.lock",
            Self::PipfileLock => "Pipfile.lock",
        }
    }
}

/// A JSON or TOML file that is none of the locks `--from` reads.
fn unknown_document(path: &Path, language: &str) -> LockfileError {
    LockfileError::Unsupported {
        path: path.to_owned(),
        message: format!(
            "a {language} file that is not a lock `--from` reads (uv.lock, poetry.lock, pdm.lock, pylock.toml, Pipfile.lock); it is not read as a requirements file"
        ),
        hint: "name the project's lock file (`--from uv.lock`, `--from Pipfile.lock`, ...) or a requirements file (`pip freeze > requirements.txt`)".to_owned(),
    }
}

/// What a lock says it can serve: `requires-python` and its environments (uv.lock's
/// `supported-markers`, pylock.toml's `environments`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Supported {
    pub(crate) requires_python: Option<String>,
    /// Each environment as written, and parsed.
    pub(crate) environments: Vec<(String, crate::requirement::MarkerTree)>,
}

impl Supported {
    /// An error (exit 2, with a hint) when `--python-version` / `--platform` ask for a
    /// target outside what the lock supports. Only a target the flags chose is checked.
    pub(crate) fn check(&self, path: &Path, target: &MarkerTarget) -> Result<(), LockfileError> {
        if target.source != marker::TargetSource::Flags {
            return Ok(());
        }
        let Some(values) = &target.values else {
            return Ok(());
        };
        if let Some(requires) = &self.requires_python {
            if let Some(specifiers) = crate::requirement::parse_specifiers(requires) {
                // `--python-version 3.10` is any 3.10 release.
                let candidates = [
                    values.python_full_version.clone(),
                    format!("{}.999", values.python_version),
                ];
                let served = candidates.iter().any(|candidate| {
                    parse_version(candidate).is_some_and(|version| specifiers.contains(&version))
                });
                if !served {
                    return Err(LockfileError::Unsupported {
                        path: path.to_owned(),
                        message: format!(
                            "Python {} (`--python-version`) is outside the lock's requires-python `{requires}`",
                            values.python_full_version
                        ),
                        hint: format!(
                            "pass a `--python-version` the lock supports (`{requires}`), or re-lock the project for that Python"
                        ),
                    });
                }
            }
        }
        if !self.environments.is_empty()
            && !self
                .environments
                .iter()
                .any(|(_, marker)| target.evaluate(marker, &[]))
        {
            let listed: Vec<String> = self
                .environments
                .iter()
                .map(|(text, _)| format!("`{text}`"))
                .collect();
            return Err(LockfileError::Unsupported {
                path: path.to_owned(),
                message: redact(&format!(
                    "{} (`--platform` / `--python-version`) matches none of the lock's environments: {}",
                    target.describe(),
                    listed.join(", ")
                )),
                hint: "pass a `--platform` the lock supports, or add the environment to the project (`[tool.uv] environments`) and re-lock".to_owned(),
            });
        }
        Ok(())
    }
}

/// The lock files `--from DIR` and `--from pyproject.toml` look for, in this order.
pub(crate) const PROJECT_LOCKFILES: [&str; 5] = [
    "uv.lock",
    "poetry.lock",
    "pdm.lock",
    "Pipfile.lock",
    "pylock.toml",
];

/// What one `--from` value names: the file to read, and whether it was found in a project
/// directory (`--from DIR`, `--from DIR/pyproject.toml`) rather than named.
pub(crate) fn resolve_from(path: &Path) -> Result<(PathBuf, bool), LockfileError> {
    let is_pyproject = path
        .file_name()
        .is_some_and(|name| name.eq_ignore_ascii_case("pyproject.toml"));
    let directory = if path.is_dir() {
        path
    } else if is_pyproject {
        path.parent().unwrap_or_else(|| Path::new(""))
    } else {
        return Ok((path.to_owned(), false));
    };
    let looked_for: Vec<PathBuf> = PROJECT_LOCKFILES
        .iter()
        .map(|name| directory.join(name))
        .collect();
    match looked_for.iter().find(|candidate| candidate.is_file()) {
        Some(found) => Ok((found.clone(), true)),
        None => Err(LockfileError::NoLockfile {
            path: path.to_owned(),
            looked_for,
            directory: directory.to_owned(),
            tool: crate::project::detect(directory)
                .filter(|project| project.root == directory)
                .map(|project| project.tool),
            requirements: Some(directory.join("requirements.txt")).filter(|file| file.is_file()),
        }),
    }
}

/// Which dependency groups and extras to read, as `uv sync` and `poetry install` choose
/// them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupSelection {
    /// `--no-dev`: leave out the `dev` group.
    pub no_dev: bool,
    /// `--dev`: read a Pipfile.lock's `develop` packages (as `pipenv sync --dev`).
    pub dev: bool,
    /// `--group`: groups to add to the default ones.
    pub groups: Vec<String>,
    /// Poetry's `--with`: optional groups to add.
    pub with: Vec<String>,
    /// Poetry's `--without`: groups to leave out.
    pub without: Vec<String>,
    /// Poetry's `--only`: only these groups.
    pub only: Vec<String>,
    /// `--extra`: extras of the project to add.
    pub extras: Vec<String>,
    /// `--all-extras`.
    pub all_extras: bool,
    /// uv's `--package`: one workspace member.
    pub package: Option<String>,
    /// uv's `--all-packages`: every workspace member.
    pub all_packages: bool,
}

impl GroupSelection {
    /// The selected groups (normalized) given the file's default groups.
    pub(crate) fn resolve(&self, defaults: &[String]) -> Vec<String> {
        let mut selected: Vec<String> = defaults
            .iter()
            .map(|group| crate::requirement::normalize(group))
            .filter(|group| !(self.no_dev && group == "dev"))
            .collect();
        for group in &self.groups {
            let group = crate::requirement::normalize(group);
            if !selected.contains(&group) {
                selected.push(group);
            }
        }
        selected.sort();
        selected
    }
}

/// A note about a file: a line skipped, an assumption made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Note {
    pub(crate) location: Location,
    pub(crate) message: String,
}

impl Note {
    /// A note whose message has the credentials of its URLs redacted.
    pub(crate) fn new(location: Location, message: impl Into<String>) -> Self {
        Self {
            location,
            message: redact(&message.into()),
        }
    }
}

impl fmt::Display for Note {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}: {}", self.location, self.message)
    }
}

/// What the files say is installed.
#[derive(Debug, Default)]
pub(crate) struct Loaded {
    /// In file order; the first entry of a name wins.
    pub(crate) packages: Vec<LockedPackage>,
    /// The files read, with their formats (includes too).
    pub(crate) files: Vec<(PathBuf, FileFormat)>,
    pub(crate) notes: Vec<Note>,
    /// The first lock's `requires-python` (uv.lock, pylock.toml), as written.
    pub(crate) requires_python: Option<String>,
    /// Requirements files given on the command line that may list only direct
    /// dependencies (see [`requirements::looks_complete`]).
    pub(crate) maybe_partial: Vec<PathBuf>,
}

impl Loaded {
    /// The index the plan reads; a package's location is `file:line`.
    pub(crate) fn installed(&self) -> Installed {
        Installed::from_distributions(self.packages.iter().map(|package| InstalledDistribution {
            name: package.name.clone(),
            raw_version: package.raw_version.clone(),
            version: package.version.clone(),
            path: PathBuf::from(package.location.to_string()),
        }))
    }
}

/// Reads the file at `path` as text under the policy for untrusted files
/// ([`crate::untrusted`]): a regular file, at most the cap of `kind`, UTF-8.
pub(crate) fn read_text(
    path: &Path,
    kind: crate::untrusted::FileKind,
) -> Result<String, LockfileError> {
    use crate::untrusted::ReadError;
    crate::untrusted::read_text(path, kind).map_err(|error| match error {
        ReadError::Io(error) => LockfileError::Unreadable {
            path: path.to_owned(),
            error,
        },
        ReadError::NotUtf8 { line, byte } => {
            LockfileError::malformed(path, line, format!("not UTF-8 (invalid byte 0x{byte:02x})"))
        }
        error => LockfileError::Refused {
            path: path.to_owned(),
            error,
        },
    })
}

/// Decodes UTF-8, naming the line of the first invalid byte.
pub(crate) fn decode(bytes: &[u8], path: &Path) -> Result<String, LockfileError> {
    crate::untrusted::decode(bytes.to_vec()).map_err(|error| match error {
        crate::untrusted::ReadError::NotUtf8 { line, byte } => {
            LockfileError::malformed(path, line, format!("not UTF-8 (invalid byte 0x{byte:02x})"))
        }
        error => LockfileError::Refused {
            path: path.to_owned(),
            error,
        },
    })
}

/// Byte offsets → 1-based lines, built once per file: a binary search per lookup instead
/// of a count from the start of the file.
#[derive(Debug, Clone)]
pub(crate) struct LineIndex {
    /// The offset of every `\n`.
    newlines: Vec<usize>,
}

impl LineIndex {
    pub(crate) fn new(text: &str) -> Self {
        Self {
            newlines: text
                .bytes()
                .enumerate()
                .filter(|(_, byte)| *byte == b'\n')
                .map(|(offset, _)| offset)
                .collect(),
        }
    }

    /// The 1-based line of byte `offset`.
    pub(crate) fn line(&self, offset: usize) -> usize {
        self.newlines.partition_point(|newline| *newline < offset) + 1
    }
}

/// A package name from a TOML lockfile, normalized; the error names `field` and its line.
pub(crate) fn package_name(
    origin: &Path,
    lines: &LineIndex,
    base: usize,
    field: &str,
    spanned: &toml::Spanned<String>,
) -> Result<PackageName, LockfileError> {
    crate::requirement::parse_name(spanned.get_ref()).ok_or_else(|| {
        LockfileError::malformed(
            origin,
            lines.line(base + spanned.span().start),
            format!(
                "`{field}`: `{}` is not a valid package name",
                spanned.get_ref()
            ),
        )
    })
}

/// A lock's list of environment markers, each parsed; an error names its line.
pub(crate) fn parse_environments(
    origin: &Path,
    lines: &LineIndex,
    field: &str,
    raw: &[toml::Spanned<String>],
) -> Result<Vec<(String, crate::requirement::MarkerTree)>, LockfileError> {
    raw.iter()
        .map(|marker| {
            marker::parse_marker(marker.get_ref())
                .map(|parsed| (marker.get_ref().clone(), parsed))
                .map_err(|message| {
                    LockfileError::malformed(
                        origin,
                        lines.line(marker.span().start),
                        format!("`{field}`: {message}"),
                    )
                })
        })
        .collect()
}

/// A TOML syntax or shape error, with its line and the message's first line.
pub(crate) fn toml_error(path: &Path, lines: &LineIndex, error: &toml::de::Error) -> LockfileError {
    let line = error.span().map(|span| lines.line(span.start)).unwrap_or(1);
    LockfileError::malformed(path, line, error.message().trim().to_owned())
}

/// `--with`, `--without` and `--only` are Poetry's (and PDM's and pipenv's): refused for
/// uv.lock and pylock.toml, with uv's equivalents named.
fn refuse_poetry_flags(path: &Path, selection: &GroupSelection) -> Result<(), LockfileError> {
    for (flag, given) in [
        ("--with", &selection.with),
        ("--without", &selection.without),
        ("--only", &selection.only),
    ] {
        if !given.is_empty() {
            return Err(LockfileError::Unsupported {
                path: path.to_owned(),
                message: format!(
                    "`{flag}` selects poetry.lock, pdm.lock and Pipfile.lock groups; this is not one"
                ),
                hint: "use `--group NAME` (and `--no-dev`) for uv.lock and pylock.toml groups"
                    .to_owned(),
            });
        }
    }
    Ok(())
}

/// Reads every file in order and collects their packages (the first entry of a name wins).
pub(crate) fn load(
    paths: &[PathBuf],
    selection: &GroupSelection,
    target: &MarkerTarget,
) -> Result<Loaded, LockfileError> {
    let mut loaded = Loaded::default();
    for path in paths {
        let kind = match FileFormat::from_name(path) {
            Some(FileFormat::Requirements) | None => crate::untrusted::FileKind::Requirements,
            Some(_) => crate::untrusted::FileKind::Lockfile,
        };
        let text = read_text(path, kind)?;
        let format = FileFormat::detect(path, &text)?;
        let packages = match format {
            FileFormat::Requirements => {
                if !requirements::looks_complete(&text) {
                    loaded.maybe_partial.push(path.clone());
                }
                requirements::load(path, &text, target, &mut loaded.files, &mut loaded.notes)?
            }
            FileFormat::UvLock => {
                loaded.files.push((path.clone(), format));
                let lock = uv::parse(&text, path)?;
                let supported = lock.supported();
                supported.check(path, target)?;
                if loaded.requires_python.is_none() {
                    loaded.requires_python = supported.requires_python.clone();
                }
                refuse_poetry_flags(path, selection)?;
                let defaults = uv::default_groups(path);
                let extras: Vec<String> = selection
                    .extras
                    .iter()
                    .map(|extra| crate::requirement::normalize(extra))
                    .collect();
                let groups = selection.resolve(&defaults);
                lock.select_with(
                    &uv::UvSelection {
                        groups: &groups,
                        extras: &extras,
                        all_extras: selection.all_extras,
                        package: selection.package.as_deref(),
                        all_packages: selection.all_packages,
                    },
                    target,
                )?
            }
            FileFormat::Pylock => {
                loaded.files.push((path.clone(), format));
                let lock = pylock::parse(&text, path)?;
                let supported = lock.supported();
                supported.check(path, target)?;
                if loaded.requires_python.is_none() {
                    loaded.requires_python = supported.requires_python.clone();
                }
                refuse_poetry_flags(path, selection)?;
                lock.select(selection, target)?
            }
            FileFormat::PoetryLock => {
                loaded.files.push((path.clone(), format));
                let lock = poetry::parse(&text, path)?;
                if !lock.markers_recorded {
                    loaded.notes.push(Note::new(
                        Location {
                            file: path.clone(),
                            line: 1,
                        },
                        "this poetry.lock (lock-version < 2.1) records no markers per package: every non-optional package counts",
                    ));
                }
                let project = match poetry::PoetryProject::beside(path) {
                    Ok(project) => project,
                    Err(message) => {
                        if path.with_file_name("pyproject.toml").exists() {
                            loaded.notes.push(Note::new(
                                Location {
                                    file: path.clone(),
                                    line: 1,
                                },
                                message,
                            ));
                        }
                        poetry::PoetryProject::default()
                    }
                };
                lock.select(selection, &project, target)?
            }
            FileFormat::PdmLock => {
                loaded.files.push((path.clone(), format));
                let lock = pdm::parse(&text, path)?;
                let note = |message: String| {
                    Note::new(
                        Location {
                            file: path.clone(),
                            line: 1,
                        },
                        message,
                    )
                };
                if !lock.groups_recorded {
                    loaded.notes.push(note(
                        "this pdm.lock records no groups per package (locked without the `inherit_metadata` strategy): every package counts; `pdm lock --strategy inherit_metadata` records them".to_owned(),
                    ));
                }
                let project = match pdm::PdmProject::beside(path) {
                    Ok(project) => project,
                    Err(message) => {
                        if lock.groups.iter().any(|group| group != "default") {
                            loaded.notes.push(note(message));
                        }
                        pdm::PdmProject::Unknown
                    }
                };
                lock.select(selection, &project, target)?
            }
            FileFormat::PipfileLock => {
                loaded.files.push((path.clone(), format));
                pipfile::parse(&text, path)?.select(selection, target)?
            }
        };
        loaded.packages.extend(packages);
    }
    Ok(loaded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_formats_by_name_then_content() {
        let path = |name: &str| PathBuf::from(format!("/project/{name}"));
        let detect = |name: &str, text: &str| FileFormat::detect(&path(name), text).unwrap();
        assert_eq!(detect("uv.lock", ""), FileFormat::UvLock);
        assert_eq!(detect("pylock.dev.toml", ""), FileFormat::Pylock);
        assert_eq!(detect("poetry.lock", ""), FileFormat::PoetryLock);
        assert_eq!(detect("pdm.lock", ""), FileFormat::PdmLock);
        assert_eq!(detect("Pipfile.lock", ""), FileFormat::PipfileLock);
        assert_eq!(
            detect("requirements-dev.lock", ""),
            FileFormat::Requirements
        );
        assert_eq!(
            detect("requirements.txt", "# only\n\n"),
            FileFormat::Requirements
        );
        assert_eq!(
            detect("locked", "lock-version = \"1.0\"\n"),
            FileFormat::Pylock
        );
        assert_eq!(
            detect("locked", "version = 1\n[[package]]\nname = \"a\"\n"),
            FileFormat::UvLock
        );
        assert_eq!(
            detect(
                "locked",
                "[[package]]\nname = \"a\"\n[metadata]\nlock-version = \"2.1\"\n"
            ),
            FileFormat::PoetryLock
        );
        assert_eq!(
            detect(
                "locked",
                "[metadata]\ngroups = [\"default\"]\nlock_version = \"4.5.0\"\n[[package]]\nname = \"a\"\n"
            ),
            FileFormat::PdmLock
        );
        assert_eq!(
            detect("Pipfile-prod.lock", "{\"_meta\": {}, \"default\": {}}"),
            FileFormat::PipfileLock
        );
        assert_eq!(detect("locked", "flask==3.0.0\n"), FileFormat::Requirements);
    }

    #[test]
    fn json_and_toml_are_never_requirements() {
        for (name, text, language) in [
            ("requirements.txt", "{\"flask\": \"3.0.0\"}", "JSON"),
            ("deps.lock", "[1, 2]", "JSON"),
            ("deps.lock", "{ not json", "JSON"),
            ("requirements.txt", "[project]\nname = \"a\"\n", "TOML"),
            ("pyproject.toml", "[tool.poetry]\nname = \"a\"\n", "TOML"),
        ] {
            let error = FileFormat::detect(Path::new(name), text).unwrap_err();
            assert_eq!(
                error.to_string(),
                format!("`{name}`: a {language} file that is not a lock `--from` reads (uv.lock, poetry.lock, pdm.lock, pylock.toml, Pipfile.lock); it is not read as a requirements file"),
            );
            assert!(error.hint().unwrap().contains("--from Pipfile.lock"));
        }
    }

    #[test]
    fn undecodable_bytes_name_the_line() {
        let error = decode(b"flask==3.0.0\nfoo==1\xff\n", Path::new("r.txt")).unwrap_err();
        assert_eq!(
            error.to_string(),
            "`r.txt` line 2: not UTF-8 (invalid byte 0xff)"
        );
        assert_eq!(
            decode(b"\xef\xbb\xbfflask==1\n", Path::new("r.txt")).unwrap(),
            "flask==1\n"
        );
    }

    /// A poor man's fuzzer: every prefix of every fixture, and deterministic byte
    /// mutations of each, through every parser; errors are fine, panics are not.
    #[test]
    fn parsers_never_panic_on_truncated_or_mutated_input() {
        let fixtures = [
            include_str!("../../tests/fixtures/lockfiles/requirements/requirements.txt"),
            include_str!("../../tests/fixtures/lockfiles/uv-groups/uv.lock"),
            include_str!("../../tests/fixtures/lockfiles/pylock/pylock.toml"),
            include_str!("../../tests/fixtures/lockfiles/poetry/poetry.lock"),
            include_str!("../../tests/fixtures/lockfiles/pdm/pdm.lock"),
            include_str!("../../tests/fixtures/lockfiles/pipfile/Pipfile.lock"),
        ];
        let origin = Path::new("fuzz");
        let everything = MarkerTarget::everything();
        let run_all = |text: &str| {
            let _ = requirements::parse(text, origin);
            let _ = poetry::PoetryProject::parse(text);
            let _ = uv::default_groups_of(text);
            let _ = pdm::PdmProject::parse(text);
            let _ = FileFormat::detect(origin, text);
            if let Ok(lock) = pdm::parse(text, origin) {
                let _ = lock.select(
                    &GroupSelection::default(),
                    &pdm::PdmProject::Unknown,
                    &everything,
                );
            }
            if let Ok(lock) = pipfile::parse(text, origin) {
                let _ = lock.select(
                    &GroupSelection {
                        dev: true,
                        ..GroupSelection::default()
                    },
                    &everything,
                );
            }
            if let Ok(lock) = uv::parse(text, origin) {
                let _ = lock.select(&["dev".to_owned()], &everything);
            }
            if let Ok(lock) = pylock::parse(text, origin) {
                let _ = lock.select(&GroupSelection::default(), &everything);
            }
            if let Ok(lock) = poetry::parse(text, origin) {
                let _ = lock.select(
                    &GroupSelection::default(),
                    &poetry::PoetryProject::default(),
                    &everything,
                );
            }
        };
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let alphabet = b" \n\\#=.-[]{}\"';<>~!@,:*0123456789abcdefghijklmnopqrstuvwxyz";
        for text in fixtures {
            // Prefixes cost the square of the length: the first 4 KiB of the long ones.
            let cut = (0..=text.len().min(4096))
                .rev()
                .find(|end| text.is_char_boundary(*end))
                .unwrap_or(0);
            let text = &text[..cut];
            for end in (0..=text.len()).filter(|end| text.is_char_boundary(*end)) {
                run_all(&text[..end]);
            }
            for _ in 0..300 {
                let mut bytes = text.as_bytes().to_vec();
                for _ in 0..1 + next() % 4 {
                    let position = (next() as usize) % bytes.len();
                    bytes[position] = alphabet[(next() as usize) % alphabet.len()];
                }
                if let Ok(mutated) = String::from_utf8(bytes) {
                    run_all(&mutated);
                }
            }
        }
    }

    #[test]
    fn line_index_matches_a_count_from_the_start() {
        let text = "a\nbb\n\nccc\nd";
        let index = LineIndex::new(text);
        for offset in 0..=text.len() + 2 {
            let counted = text.as_bytes()[..offset.min(text.len())]
                .iter()
                .filter(|byte| **byte == b'\n')
                .count()
                + 1;
            assert_eq!(index.line(offset), counted, "offset {offset}");
        }
    }

    #[test]
    fn messages_and_versions_are_redacted() {
        let error = LockfileError::malformed(
            Path::new("uv.lock"),
            3,
            "`marker`: `os_name == 'https://u:s3cret@h/x'` is not valid",
        );
        assert!(!error.to_string().contains("s3cret"), "{error}");
        let note = Note::new(
            Location {
                file: PathBuf::from("r.txt"),
                line: 1,
            },
            "see https://TOKEN@h/x",
        );
        assert!(!note.to_string().contains("TOKEN"), "{note}");
        let package = LockedPackage::new(
            crate::requirement::parse_name("a").unwrap(),
            "https://u:s3cret@h",
            note.location.clone(),
        );
        assert!(!package.raw_version.contains("s3cret"));
    }

    #[test]
    fn groups_follow_uv() {
        let defaults = vec!["dev".to_owned()];
        let selection = GroupSelection {
            no_dev: true,
            groups: vec!["Lint".to_owned()],
            ..GroupSelection::default()
        };
        assert_eq!(selection.resolve(&defaults), ["lint"]);
        assert_eq!(GroupSelection::default().resolve(&defaults), ["dev"]);
    }
}
