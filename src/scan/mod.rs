//! Scanning site-packages directories for installed distributions.
//!
//! One non-recursive read of each directory. A folder name (`name-version.dist-info`) is a
//! cheap hint: only folders whose name concerns the registry are opened, which is also how
//! `importlib.metadata` (and so every instrumentor at run time) finds a distribution. The
//! metadata inside is the truth for `Name` and `Version`. Broken entries become warnings;
//! nothing here fails the run.

mod folder;
pub mod metadata;

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::path::{Path, PathBuf};

use pep440_rs::Version;
use pep508_rs::PackageName;

use crate::diagnostics::{Warning, WarningKind};
use crate::requirement::{normalize, parse_name, parse_version};
use folder::{classify, FolderKind};

/// An installed distribution.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InstalledDistribution {
    /// The normalized project name, from the metadata.
    pub name: PackageName,
    /// The version as written in the metadata.
    pub raw_version: String,
    /// The parsed version; `None` when it is not PEP 440 (such a distribution matches nothing).
    #[serde(skip)]
    pub version: Option<Version>,
    /// The `*.dist-info` / `*.egg-info` / `*.egg` path.
    pub path: PathBuf,
}

/// What a scan found.
#[derive(Debug, Default)]
pub struct Installed {
    distributions: HashMap<PackageName, InstalledDistribution>,
    pub warnings: Vec<Warning>,
}

impl Installed {
    /// The distribution installed under `name`, if any.
    pub fn get(&self, name: &PackageName) -> Option<&InstalledDistribution> {
        self.distributions.get(name)
    }

    /// How many distributions of interest were found.
    pub fn len(&self) -> usize {
        self.distributions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.distributions.is_empty()
    }

    /// Builds an index from already-known distributions (lockfiles, tests).
    pub fn from_distributions(
        distributions: impl IntoIterator<Item = InstalledDistribution>,
    ) -> Self {
        let mut installed = Self::default();
        for distribution in distributions {
            installed
                .distributions
                .entry(distribution.name.clone())
                .or_insert(distribution);
        }
        installed
    }

    /// All distributions found, sorted by name.
    pub fn iter_sorted(&self) -> Vec<&InstalledDistribution> {
        let mut all: Vec<_> = self.distributions.values().collect();
        all.sort_by(|left, right| left.name.cmp(&right.name));
        all
    }
}

/// Scans `directories` in order. `wanted` holds the normalized names worth reading; a
/// project found in an earlier directory hides the same project in a later one.
pub fn scan(directories: &[PathBuf], wanted: &HashSet<String>) -> Installed {
    let mut installed = Installed::default();
    for directory in directories {
        scan_directory(directory, wanted, &mut installed);
    }
    installed
}

fn scan_directory(directory: &Path, wanted: &HashSet<String>, installed: &mut Installed) {
    let entries = match std::fs::read_dir(directory) {
        Ok(entries) => entries,
        Err(error) => {
            installed.warnings.push(Warning::new(
                WarningKind::Unreadable,
                format!("cannot read `{}`: {error}", directory.display()),
            ));
            return;
        }
    };
    let mut candidates = Vec::new();
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                installed.warnings.push(Warning::new(
                    WarningKind::Unreadable,
                    format!("cannot read an entry of `{}`: {error}", directory.display()),
                ));
                continue;
            }
        };
        let file_name = entry.file_name();
        let file_name = file_name.to_string_lossy();
        let Some((kind, stem)) = classify(&file_name) else {
            continue;
        };
        if folder::name_candidates(stem).any(|candidate| wanted.contains(&candidate)) {
            candidates.push((file_name.into_owned(), kind));
        }
    }
    // Sorted, so that duplicates resolve the same way on every file system.
    candidates.sort();

    let mut seen_here: HashSet<PackageName> = HashSet::new();
    for (file_name, kind) in candidates {
        let path = directory.join(&file_name);
        let Some(distribution) = read_distribution(&path, &file_name, kind, installed) else {
            continue;
        };
        if !seen_here.insert(distribution.name.clone()) {
            let kept = installed
                .get(&distribution.name)
                .map(|kept| kept.path.display().to_string())
                .unwrap_or_default();
            installed.warnings.push(Warning::new(
                WarningKind::DuplicateDistribution,
                format!(
                    "`{}` is installed twice in `{}`; using `{kept}` and ignoring `{}`",
                    distribution.name,
                    directory.display(),
                    path.display()
                ),
            ));
            continue;
        }
        if let Entry::Vacant(slot) = installed.distributions.entry(distribution.name.clone()) {
            slot.insert(distribution);
        }
    }
}

fn read_distribution(
    path: &Path,
    file_name: &str,
    kind: FolderKind,
    installed: &mut Installed,
) -> Option<InstalledDistribution> {
    let mut warn = |kind: WarningKind, message: String| {
        installed.warnings.push(Warning::new(kind, message));
    };
    let metadata_path = match kind {
        FolderKind::DistInfo => path.join("METADATA"),
        FolderKind::Egg => path.join("EGG-INFO").join("PKG-INFO"),
        FolderKind::EggInfo => match std::fs::metadata(path) {
            Ok(status) if status.is_dir() => path.join("PKG-INFO"),
            Ok(_) => path.to_path_buf(),
            Err(error) => {
                warn(
                    WarningKind::Unreadable,
                    format!("skipping `{}`: {error}", path.display()),
                );
                return None;
            }
        },
    };
    let file = match File::open(&metadata_path) {
        Ok(file) => file,
        Err(error) => {
            let reason = match std::fs::symlink_metadata(path) {
                Err(_) => format!("{error}"),
                Ok(status) if status.is_symlink() && std::fs::metadata(path).is_err() => {
                    "it is a broken symbolic link".to_owned()
                }
                Ok(status) if !status.is_dir() && kind != FolderKind::EggInfo => {
                    "it is not a directory".to_owned()
                }
                Ok(_) if error.kind() == std::io::ErrorKind::NotFound => format!(
                    "it has no `{}`",
                    metadata_path
                        .strip_prefix(path)
                        .unwrap_or(&metadata_path)
                        .display()
                ),
                Ok(_) => format!("cannot read `{}`: {error}", metadata_path.display()),
            };
            warn(
                WarningKind::BrokenDistribution,
                format!("skipping `{}`: {reason}", path.display()),
            );
            return None;
        }
    };
    let core = match metadata::read_core_metadata(file) {
        Ok(core) => core,
        Err(error) => {
            warn(
                WarningKind::BrokenDistribution,
                format!(
                    "skipping `{}`: cannot read `{}`: {error}",
                    path.display(),
                    metadata_path.display()
                ),
            );
            return None;
        }
    };
    let (Some(raw_name), Some(raw_version)) = (core.name, core.version) else {
        warn(
            WarningKind::BrokenDistribution,
            format!(
                "skipping `{}`: its metadata has no `Name` or no `Version`",
                path.display()
            ),
        );
        return None;
    };
    let Some(name) = parse_name(&raw_name) else {
        warn(
            WarningKind::BrokenDistribution,
            format!(
                "skipping `{}`: `{raw_name}` is not a valid project name",
                path.display()
            ),
        );
        return None;
    };
    let (_, stem) = classify(file_name)?;
    if !folder::name_candidates(stem).any(|candidate| candidate == name.as_ref()) {
        warn(
            WarningKind::NameMismatch,
            format!(
                "`{}` holds the metadata of `{raw_name}`; using `{raw_name}`",
                path.display()
            ),
        );
    }
    let version = parse_version(&raw_version);
    if version.is_none() {
        warn(
            WarningKind::InvalidVersion,
            format!(
                "`{raw_name}` has version `{raw_version}`, which is not a PEP 440 version; it matches no instrumentation (`{}`)",
                path.display()
            ),
        );
    }
    debug_assert_eq!(normalize(name.as_ref()), name.as_ref());
    Some(InstalledDistribution {
        name,
        raw_version,
        version,
        path: path.to_path_buf(),
    })
}
