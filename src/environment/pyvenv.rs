//! A venv's `pyvenv.cfg` and the layout around it: enough, usually, to find its
//! site-packages and interpreter without starting Python.

use std::path::{Path, PathBuf};

use super::{is_executable_file, EnvironmentError};
use crate::interpreter::major_minor;

/// Whether a venv sees the base interpreter's site-packages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum SystemSitePackages {
    #[default]
    Excluded,
    Included,
}

/// The parts of `pyvenv.cfg` that discovery uses.
#[derive(Debug, Default)]
pub(super) struct VenvConfig {
    /// Directory of the base interpreter.
    pub(super) home: Option<PathBuf>,
    /// `major.minor`, from `version_info` (uv, virtualenv) or `version` (venv).
    pub(super) version: Option<String>,
    pub(super) implementation: Option<String>,
    pub(super) system_site_packages: SystemSitePackages,
    pub(super) created_by_uv: bool,
}

impl VenvConfig {
    pub(super) fn read(path: &Path) -> Result<Self, EnvironmentError> {
        let bytes = std::fs::read(path).map_err(|error| EnvironmentError::Unreadable {
            path: path.to_owned(),
            error,
        })?;
        Ok(Self::parse(&String::from_utf8_lossy(&bytes)))
    }

    /// `key = value` lines; keys are case-insensitive, as in CPython's `site.py`.
    pub(super) fn parse(text: &str) -> Self {
        let mut config = Self::default();
        for (key, value) in text.lines().filter_map(|line| line.split_once('=')) {
            let value = value.trim();
            match key.trim().to_ascii_lowercase().as_str() {
                "home" if !value.is_empty() => config.home = Some(PathBuf::from(value)),
                "version_info" | "version" => {
                    config.version = config.version.or_else(|| major_minor(value))
                }
                "implementation" => config.implementation = Some(value.to_owned()),
                "include-system-site-packages" if value.eq_ignore_ascii_case("true") => {
                    config.system_site_packages = SystemSitePackages::Included;
                }
                "uv" => config.created_by_uv = true,
                _ => {}
            }
        }
        config
    }
}

/// `…/lib/python3.11/site-packages` → `3.11`.
pub(super) fn version_of_site_packages(directory: &Path) -> Option<String> {
    let name = directory.parent()?.file_name()?.to_str()?;
    let version = name
        .strip_prefix("python")
        .or_else(|| name.strip_prefix("pypy"))?;
    major_minor(version)
}

/// Site-packages from the directory layout alone, with the version they imply.
/// With a known version the usual places are checked; otherwise (or if none
/// exists) `lib*/python*/site-packages` and `Lib/site-packages` are globbed and a
/// single match is accepted.
pub(super) fn locate_site_packages(
    prefix: &Path,
    version: Option<&str>,
    prefer_pypy: bool,
) -> Option<(Vec<PathBuf>, Option<String>)> {
    if let Some(version) = version {
        let mut names = vec![format!("python{version}"), format!("python{version}t")];
        let pypy = format!("pypy{version}");
        if prefer_pypy {
            names.insert(0, pypy);
        } else {
            names.push(pypy);
        }
        let mut candidates: Vec<PathBuf> = ["lib", "lib64"]
            .iter()
            .flat_map(|lib| {
                names
                    .iter()
                    .map(move |name| prefix.join(lib).join(name).join("site-packages"))
            })
            .collect();
        candidates.push(prefix.join("Lib").join("site-packages"));
        let found = unique_directories(candidates);
        if !found.is_empty() {
            return Some((found, Some(version.to_owned())));
        }
    }
    let mut candidates: Vec<PathBuf> = ["lib", "lib64"]
        .iter()
        .filter_map(|lib| std::fs::read_dir(prefix.join(lib)).ok())
        .flatten()
        .filter_map(Result::ok)
        .filter(|entry| {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            name.starts_with("python") || name.starts_with("pypy")
        })
        .map(|entry| entry.path().join("site-packages"))
        .collect();
    candidates.sort();
    candidates.push(prefix.join("Lib").join("site-packages"));
    match unique_directories(candidates).as_slice() {
        [single] => {
            let version = version
                .map(str::to_owned)
                .or_else(|| version_of_site_packages(single));
            Some((vec![single.clone()], version))
        }
        _ => None,
    }
}

/// The Python version recorded in `conda-meta/python-X.Y.Z-<build>.json`.
pub(super) fn conda_python_version(prefix: &Path) -> Option<String> {
    std::fs::read_dir(prefix.join("conda-meta"))
        .ok()?
        .filter_map(Result::ok)
        .find_map(|entry| {
            let name = entry.file_name();
            let rest = name.to_str()?.strip_prefix("python-")?;
            if !rest.starts_with(|character: char| character.is_ascii_digit()) {
                return None; // e.g. `python-dateutil-…`
            }
            major_minor(rest.split('-').next()?)
        })
}

/// The venv's own interpreter, if present.
pub(crate) fn venv_interpreter(prefix: &Path) -> Option<PathBuf> {
    [
        prefix.join("bin").join("python"),
        prefix.join("bin").join("python3"),
        prefix.join("Scripts").join("python.exe"),
    ]
    .into_iter()
    .find(|candidate| candidate.is_file())
}

/// The base interpreter named by `home` in `pyvenv.cfg`.
pub(super) fn base_interpreter(config: &VenvConfig, version: Option<&str>) -> Option<PathBuf> {
    let home = config.home.as_ref()?;
    let mut names = vec!["python3".to_owned()];
    names.extend(version.map(|version| format!("python{version}")));
    names.extend(["python".to_owned(), "python.exe".to_owned()]);
    names
        .iter()
        .map(|name| home.join(name))
        .find(|candidate| is_executable_file(candidate))
}

/// Directories that exist, in order, without duplicates (compared canonically, so
/// `lib64` symlinked to `lib` counts once; the first spelling is kept).
pub(super) fn unique_directories(candidates: impl IntoIterator<Item = PathBuf>) -> Vec<PathBuf> {
    let mut seen = Vec::new();
    let mut unique = Vec::new();
    for candidate in candidates {
        if !candidate.is_dir() {
            continue;
        }
        let canonical = candidate
            .canonicalize()
            .unwrap_or_else(|_| candidate.clone());
        if !seen.contains(&canonical) {
            seen.push(canonical);
            unique.push(candidate);
        }
    }
    unique
}

/// The environment a site-packages directory belongs to, from its layout: `<prefix>/lib/
/// pythonX.Y/site-packages` (`<prefix>/Lib/site-packages` on Windows) where `<prefix>` is
/// a venv (`pyvenv.cfg`) or a conda environment (`conda-meta/`) with its interpreter in
/// place. The prefix and that interpreter; `None` for any other directory.
pub(crate) fn site_packages_owner(directory: &Path) -> Option<(PathBuf, PathBuf)> {
    let is_environment =
        |prefix: &Path| prefix.join("pyvenv.cfg").is_file() || prefix.join("conda-meta").is_dir();
    let posix = directory
        .ancestors()
        .nth(3)
        .filter(|prefix| is_environment(prefix))
        .map(|prefix| (prefix.to_path_buf(), prefix.join("bin").join("python")));
    let windows = directory
        .ancestors()
        .nth(2)
        .filter(|prefix| is_environment(prefix))
        .map(|prefix| {
            (
                prefix.to_path_buf(),
                prefix.join("Scripts").join("python.exe"),
            )
        });
    posix
        .into_iter()
        .chain(windows)
        .find(|(_, interpreter)| interpreter.is_file())
}
