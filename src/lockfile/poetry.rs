//! `poetry.lock`: a flat list of `[[package]]`.
//!
//! Since `lock-version = "2.1"` (Poetry 2) each package records its `groups` and its
//! `markers` (one string, or one per group), so what `poetry install` installs can be
//! read without the `pyproject.toml`: a package is installed when one of its groups is
//! selected and that group's marker holds. Every group counts, `dev` too unless
//! `--no-dev`. Older lock files record neither markers (a package counts whatever its
//! markers) nor, since 2.0, groups (`category = "dev"` in 1.x is read as the `dev`
//! group). `optional = true` packages are installed only for extras and never count.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pep508_rs::{MarkerTree, PackageName};
use serde::Deserialize;
use toml::Spanned;

use super::marker::{parse_marker, MarkerTarget};
use super::{package_name, GroupSelection, LineIndex, Location, LockedPackage, LockfileError};

/// A parsed `poetry.lock`.
#[derive(Debug, Clone)]
pub struct PoetryLock {
    path: PathBuf,
    packages: Vec<Package>,
    /// Whether packages carry `markers` (lock-version 2.1 and later).
    pub markers_recorded: bool,
}

#[derive(Debug, Clone)]
struct Package {
    name: PackageName,
    version: String,
    line: usize,
    optional: bool,
    /// The groups with their markers; empty when the lock records none.
    groups: Vec<(String, MarkerTree)>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawLock {
    metadata: RawMetadata,
}

#[derive(Deserialize)]
struct RawPackages {
    #[serde(default)]
    package: Vec<RawPackage>,
}

fn raw_packages(text: &str) -> Result<Vec<RawPackage>, toml::de::Error> {
    toml::from_str::<RawPackages>(text).map(|raw| raw.package)
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawMetadata {
    lock_version: Option<Spanned<String>>,
}

#[derive(Deserialize)]
struct RawPackage {
    name: Spanned<String>,
    version: String,
    #[serde(default)]
    optional: bool,
    category: Option<String>,
    groups: Option<Vec<String>>,
    markers: Option<Spanned<RawMarkers>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawMarkers {
    All(String),
    PerGroup(BTreeMap<String, String>),
}

/// Parses a `poetry.lock`. Pure; errors name the line.
pub fn parse(text: &str, origin: &Path) -> Result<PoetryLock, LockfileError> {
    let lines = LineIndex::new(text);
    let (raw, raw_packages): (RawLock, _) =
        super::tables::parse(text, origin, &lines, "package", raw_packages)?;
    let markers_recorded = match &raw.metadata.lock_version {
        Some(version) => {
            let parts: Vec<u64> = version
                .get_ref()
                .split('.')
                .map(|part| part.parse::<u64>())
                .collect::<Result<_, _>>()
                .map_err(|_| {
                    LockfileError::malformed(
                        origin,
                        lines.line(version.span().start),
                        format!(
                            "`metadata.lock-version = \"{}\"` is not a version",
                            version.get_ref()
                        ),
                    )
                })?;
            match parts.as_slice() {
                [1, ..] | [2, 0, ..] | [2] => false,
                [2, ..] => true,
                _ => {
                    return Err(LockfileError::malformed(
                        origin,
                        lines.line(version.span().start),
                        format!(
                            "`metadata.lock-version = \"{}\"`: only lock versions 1.x and 2.x are supported",
                            version.get_ref()
                        ),
                    ))
                }
            }
        }
        None => false,
    };
    let mut packages = Vec::with_capacity(raw_packages.len());
    for (base, package) in raw_packages {
        let line = lines.line(base + package.name.span().start);
        let name = package_name(origin, &lines, base, "package.name", &package.name)?;
        let group_names = match (package.groups, package.category) {
            (Some(groups), _) => groups,
            (None, Some(category)) => vec![category],
            (None, None) => Vec::new(),
        };
        let marker_of = |text_marker: &str, span_start: usize| {
            parse_marker(text_marker).map_err(|message| {
                LockfileError::malformed(
                    origin,
                    lines.line(base + span_start),
                    format!("`package.markers`: {message}"),
                )
            })
        };
        let mut groups = Vec::with_capacity(group_names.len());
        for group in group_names {
            let marker = match &package.markers {
                None => MarkerTree::TRUE,
                Some(markers) => match markers.get_ref() {
                    RawMarkers::All(marker) => marker_of(marker, markers.span().start)?,
                    RawMarkers::PerGroup(per_group) => match per_group.get(&group) {
                        Some(marker) => marker_of(marker, markers.span().start)?,
                        None => MarkerTree::TRUE,
                    },
                },
            };
            groups.push((crate::requirement::normalize(&group), marker));
        }
        packages.push(Package {
            name,
            version: package.version,
            line,
            optional: package.optional,
            groups,
        });
    }
    Ok(PoetryLock {
        path: origin.to_owned(),
        packages,
        markers_recorded,
    })
}

impl PoetryLock {
    /// The packages installed on `target` (every group, `dev` only without `--no-dev`).
    pub fn select(&self, selection: &GroupSelection, target: &MarkerTarget) -> Vec<LockedPackage> {
        self.packages
            .iter()
            .filter(|package| !package.optional)
            .filter(|package| {
                package.groups.is_empty()
                    || package.groups.iter().any(|(group, marker)| {
                        !(selection.no_dev && group == "dev") && target.evaluate(marker, &[])
                    })
            })
            .map(|package| {
                LockedPackage::new(
                    package.name.clone(),
                    &package.version,
                    Location {
                        file: self.path.clone(),
                        line: package.line,
                    },
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lockfile::marker::{MarkerValues, Platform, TargetSource};

    const LOCK: &str = r#"# This file is automatically @generated by Poetry 2.1.1 and should not be changed by hand.

[[package]]
name = "Flask"
version = "3.0.0"
description = "A simple framework for building complex web applications."
optional = false
python-versions = ">=3.8"
groups = ["main"]
files = [
    {file = "flask-3.0.0-py3-none-any.whl", hash = "sha256:00"},
]

[package.dependencies]
blinker = ">=1.6.2"

[package.extras]
async = ["asgiref (>=3.2)"]

[[package]]
name = "colorama"
version = "0.4.6"
description = ""
optional = false
python-versions = "*"
groups = ["main", "dev"]
markers = {main = "platform_system == \"Windows\"", dev = "sys_platform == \"win32\""}
files = []

[[package]]
name = "pytest"
version = "8.0.0"
description = ""
optional = false
python-versions = ">=3.8"
groups = ["dev"]
files = []

[[package]]
name = "psycopg2"
version = "2.9.9"
description = ""
optional = true
python-versions = ">=3.7"
groups = ["main"]
markers = "extra == \"postgres\""
files = []

[extras]
postgres = ["psycopg2"]

[metadata]
lock-version = "2.1"
python-versions = "^3.11"
content-hash = "0000"
"#;

    fn names(packages: &[LockedPackage]) -> Vec<String> {
        packages
            .iter()
            .map(|package| package.name.to_string())
            .collect()
    }

    fn target(platform: Platform) -> MarkerTarget {
        let values = MarkerValues::synthetic("3.12", platform).unwrap();
        MarkerTarget::from_values(values, TargetSource::Flags).unwrap()
    }

    #[test]
    fn selects_groups_and_markers() {
        let lock = parse(LOCK, Path::new("poetry.lock")).unwrap();
        assert!(lock.markers_recorded);
        let linux = lock.select(&GroupSelection::default(), &target(Platform::Linux));
        assert_eq!(names(&linux), ["flask", "pytest"]);
        assert_eq!(linux[0].location.to_string(), "poetry.lock:4");
        let windows = lock.select(&GroupSelection::default(), &target(Platform::Windows));
        assert_eq!(names(&windows), ["flask", "colorama", "pytest"]);
        let no_dev = GroupSelection {
            no_dev: true,
            groups: Vec::new(),
        };
        assert_eq!(
            names(&lock.select(&no_dev, &target(Platform::Linux))),
            ["flask"]
        );
    }

    #[test]
    fn old_locks_use_categories_and_no_markers() {
        let text = "[[package]]\nname = \"pytest\"\nversion = \"8.0.0\"\ncategory = \"dev\"\noptional = false\n\n[[package]]\nname = \"flask\"\nversion = \"3.0.0\"\ncategory = \"main\"\noptional = false\n\n[metadata]\nlock-version = \"1.1\"\n";
        let lock = parse(text, Path::new("poetry.lock")).unwrap();
        assert!(!lock.markers_recorded);
        let no_dev = GroupSelection {
            no_dev: true,
            groups: Vec::new(),
        };
        assert_eq!(
            names(&lock.select(&no_dev, &MarkerTarget::everything())),
            ["flask"]
        );
    }

    #[test]
    fn malformed_locks_name_the_line() {
        for (text, line) in [
            ("[[package]]\nname = \"a\"\n", 1),
            ("[[package]]\nname = \"a.\"\nversion = \"1\"\n[metadata]\n", 2),
            ("[metadata]\nlock-version = \"x\"\n", 2),
            ("[metadata]\nlock-version = \"3.0\"\n", 2),
            ("[[package]]\nname = \"a\"\nversion = \"1\"\ngroups = [\"main\"]\nmarkers = \"os_name =\"\n[metadata]\n", 5),
            ("[[package]]\nname = \"a\"\nversion = 1\n[metadata]\n", 3),
        ] {
            match parse(text, Path::new("poetry.lock")) {
                Err(LockfileError::Malformed { line: found, .. }) => {
                    assert_eq!(found, line, "{text}")
                }
                other => panic!("{text}: {other:?}"),
            }
        }
    }
}
