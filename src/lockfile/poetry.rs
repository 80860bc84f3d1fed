//! `poetry.lock`: a flat list of `[[package]]`.
//!
//! Since `lock-version = "2.1"` (Poetry 2) each package records its `groups` and its
//! `markers` (one string, or one per group), so what `poetry install` installs can be
//! read without the `pyproject.toml`: a package is installed when one of its groups is
//! selected and that group's marker holds. Groups are selected as `poetry install` does,
//! from the `pyproject.toml` beside the lock ([`PoetryProject`]: optional groups count
//! only with `--with`), with `--without`, `--only` and `--no-dev` (as `--without dev`). Older lock files record neither markers (a package counts whatever its
//! markers) nor, since 2.0, groups (`category = "dev"` in 1.x is read as the `dev`
//! group). `optional = true` packages are installed only for the extras (`--extra`,
//! `--all-extras`) whose `[extras]` entry lists them.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use crate::requirement::{ExtraName, MarkerTree, PackageName};
use serde::Deserialize;
use toml::Spanned;

use super::marker::{parse_marker, MarkerTarget};
use super::{package_name, GroupSelection, LineIndex, Location, LockedPackage, LockfileError};

/// A parsed `poetry.lock`.
#[derive(Debug, Clone)]
pub(crate) struct PoetryLock {
    path: PathBuf,
    packages: Vec<Package>,
    /// `[extras]`: extra (normalized) → the optional packages it installs.
    extras: BTreeMap<String, Vec<PackageName>>,
    /// Whether packages carry `markers` (lock-version 2.1 and later).
    pub(crate) markers_recorded: bool,
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
    #[serde(default)]
    extras: BTreeMap<String, Vec<String>>,
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
pub(crate) fn parse(text: &str, origin: &Path) -> Result<PoetryLock, LockfileError> {
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
    // `postgres = ["psycopg2 (>=2.9)"]`: the names before any version.
    let extras = raw
        .extras
        .iter()
        .map(|(extra, names)| {
            let names = names
                .iter()
                .filter_map(|entry| {
                    let name = entry
                        .split([' ', '(', '[', ';', '<', '>', '=', '!', '~'])
                        .next()?;
                    crate::requirement::parse_name(name)
                })
                .collect();
            (crate::requirement::normalize(extra), names)
        })
        .collect();
    Ok(PoetryLock {
        path: origin.to_owned(),
        packages,
        extras,
        markers_recorded,
    })
}

impl PoetryLock {
    /// The packages installed on `target` for `selection`, as `poetry install` chooses
    /// them: `main` and every group not optional in `project`, plus `--with` (and
    /// `--group`), minus `--without` (and `dev` with `--no-dev`), or only `--only`; an
    /// optional package only for a selected extra (`--extra`, `--all-extras`) that lists
    /// it.
    pub(crate) fn select(
        &self,
        selection: &GroupSelection,
        project: &PoetryProject,
        target: &MarkerTarget,
    ) -> Result<Vec<LockedPackage>, LockfileError> {
        let normalize = |names: &[String]| -> Vec<String> {
            names
                .iter()
                .map(|name| crate::requirement::normalize(name))
                .collect()
        };
        let with: Vec<String> = normalize(&selection.with)
            .into_iter()
            .chain(normalize(&selection.groups))
            .collect();
        let without = normalize(&selection.without);
        let only = normalize(&selection.only);
        let mut known: BTreeSet<String> = project.groups.iter().cloned().collect();
        known.insert("main".to_owned());
        known.extend(
            self.packages
                .iter()
                .flat_map(|package| package.groups.iter().map(|(group, _)| group.clone())),
        );
        for group in with.iter().chain(&without).chain(&only) {
            if !known.contains(group) {
                return Err(LockfileError::unusable(
                    &self.path,
                    format!(
                        "group `{group}` is not defined by the project (groups: {})",
                        known.iter().cloned().collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
        }
        let selected = |group: &str| -> bool {
            if !only.is_empty() {
                return only.iter().any(|name| name == group);
            }
            if without.iter().any(|name| name == group) || (selection.no_dev && group == "dev") {
                return false;
            }
            if project.optional.iter().any(|name| name == group) {
                return with.iter().any(|name| name == group);
            }
            true
        };

        let extras: Vec<String> = if selection.all_extras {
            self.extras.keys().cloned().collect()
        } else {
            normalize(&selection.extras)
        };
        for extra in &extras {
            if !self.extras.contains_key(extra) {
                return Err(LockfileError::unusable(
                    &self.path,
                    format!(
                        "extra `{extra}` is not defined by the project (`[extras]` of the lock)"
                    ),
                ));
            }
        }
        let extra_names: Vec<ExtraName> = extras
            .iter()
            .filter_map(|extra| ExtraName::new(extra.clone()).ok())
            .collect();
        let extra_packages: HashSet<&PackageName> = extras
            .iter()
            .filter_map(|extra| self.extras.get(extra))
            .flatten()
            .collect();

        Ok(self
            .packages
            .iter()
            .filter(|package| !package.optional || extra_packages.contains(&package.name))
            .filter(|package| {
                if package.groups.is_empty() {
                    return only.is_empty() || only.iter().any(|name| name == "main");
                }
                package
                    .groups
                    .iter()
                    .any(|(group, marker)| selected(group) && target.evaluate(marker, &extra_names))
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
            .collect())
    }
}

/// What the `pyproject.toml` beside a `poetry.lock` says about its groups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PoetryProject {
    /// Every group defined (`[tool.poetry.group.NAME]`, and `dev` for the legacy
    /// `[tool.poetry.dev-dependencies]`), normalized.
    pub(crate) groups: Vec<String>,
    /// Those with `optional = true`.
    pub(crate) optional: Vec<String>,
}

impl PoetryProject {
    /// Reads the `pyproject.toml` beside `lock_path`; without one (or unreadable), no group
    /// is optional, and a note says so.
    pub(crate) fn beside(lock_path: &Path) -> Result<Self, String> {
        let pyproject = lock_path
            .parent()
            .unwrap_or_else(|| Path::new(""))
            .join("pyproject.toml");
        let text = crate::untrusted::read_text(&pyproject, crate::untrusted::FileKind::Pyproject)
            .map_err(|error| {
            format!(
                "cannot read `{}` ({error}): no group is taken as optional",
                pyproject.display()
            )
        })?;
        Self::parse(&text).map_err(|error| {
            format!(
                "`{}`: {error}: no group is taken as optional",
                pyproject.display()
            )
        })
    }

    /// The groups a `pyproject.toml`'s text defines.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let table: toml::Table = text.parse().map_err(|_| "not valid TOML".to_owned())?;
        let poetry = table.get("tool").and_then(|tool| tool.get("poetry"));
        let mut project = Self::default();
        if poetry
            .and_then(|poetry| poetry.get("dev-dependencies"))
            .is_some()
        {
            project.groups.push("dev".to_owned());
        }
        if let Some(groups) = poetry
            .and_then(|poetry| poetry.get("group"))
            .and_then(toml::Value::as_table)
        {
            for (name, group) in groups {
                let name = crate::requirement::normalize(name);
                if group.get("optional").and_then(toml::Value::as_bool) == Some(true) {
                    project.optional.push(name.clone());
                }
                project.groups.push(name);
            }
        }
        Ok(project)
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
        let linux = lock
            .select(
                &GroupSelection::default(),
                &PoetryProject::default(),
                &target(Platform::Linux),
            )
            .unwrap();
        assert_eq!(names(&linux), ["flask", "pytest"]);
        assert_eq!(linux[0].location.to_string(), "poetry.lock:4");
        let windows = lock
            .select(
                &GroupSelection::default(),
                &PoetryProject::default(),
                &target(Platform::Windows),
            )
            .unwrap();
        assert_eq!(names(&windows), ["flask", "colorama", "pytest"]);
        let no_dev = GroupSelection {
            no_dev: true,
            ..GroupSelection::default()
        };
        assert_eq!(
            names(
                &lock
                    .select(&no_dev, &PoetryProject::default(), &target(Platform::Linux))
                    .unwrap()
            ),
            ["flask"]
        );
    }

    #[test]
    fn groups_and_extras_follow_poetry_install() {
        let text = LOCK.replace(
            "[[package]]\nname = \"pytest\"",
            "[[package]]\nname = \"sphinx\"\nversion = \"7.0.0\"\noptional = false\ngroups = [\"docs\"]\nfiles = []\n\n[[package]]\nname = \"pytest\"",
        );
        let lock = parse(&text, Path::new("poetry.lock")).unwrap();
        let project = PoetryProject {
            groups: vec!["dev".to_owned(), "docs".to_owned()],
            optional: vec!["docs".to_owned()],
        };
        let linux = target(Platform::Linux);
        let pick =
            |selection: GroupSelection| names(&lock.select(&selection, &project, &linux).unwrap());
        // The optional `docs` group only with --with (or --group).
        assert_eq!(pick(GroupSelection::default()), ["flask", "pytest"]);
        let with_docs = GroupSelection {
            with: vec!["docs".to_owned()],
            ..GroupSelection::default()
        };
        assert_eq!(pick(with_docs), ["flask", "sphinx", "pytest"]);
        let group_docs = GroupSelection {
            groups: vec!["docs".to_owned()],
            ..GroupSelection::default()
        };
        assert_eq!(pick(group_docs), ["flask", "sphinx", "pytest"]);
        let without_dev = GroupSelection {
            without: vec!["dev".to_owned()],
            ..GroupSelection::default()
        };
        assert_eq!(pick(without_dev), ["flask"]);
        let only_docs = GroupSelection {
            only: vec!["docs".to_owned()],
            ..GroupSelection::default()
        };
        assert_eq!(pick(only_docs), ["sphinx"]);
        // psycopg2 is optional: only for the extra that lists it.
        let postgres = GroupSelection {
            extras: vec!["postgres".to_owned()],
            ..GroupSelection::default()
        };
        assert_eq!(pick(postgres), ["flask", "pytest", "psycopg2"]);
        let all = GroupSelection {
            all_extras: true,
            no_dev: true,
            ..GroupSelection::default()
        };
        assert_eq!(pick(all), ["flask", "psycopg2"]);
        for bad in [
            GroupSelection {
                with: vec!["nope".to_owned()],
                ..GroupSelection::default()
            },
            GroupSelection {
                extras: vec!["nope".to_owned()],
                ..GroupSelection::default()
            },
        ] {
            let error = lock.select(&bad, &project, &linux).unwrap_err();
            assert!(
                error.to_string().contains("`nope` is not defined"),
                "{error}"
            );
        }
    }

    #[test]
    fn reads_optional_groups_from_the_pyproject_beside_the_lock() {
        let directory = tempfile::tempdir().unwrap();
        std::fs::write(
            directory.path().join("pyproject.toml"),
            "[tool.poetry.dev-dependencies]\npytest = \"*\"\n[tool.poetry.group.Docs]\noptional = true\n[tool.poetry.group.docs.dependencies]\nsphinx = \"*\"\n[tool.poetry.group.lint.dependencies]\nruff = \"*\"\n",
        )
        .unwrap();
        let project = PoetryProject::beside(&directory.path().join("poetry.lock")).unwrap();
        assert_eq!(project.optional, ["docs"]);
        assert!(project.groups.contains(&"lint".to_owned()));
        assert!(project.groups.contains(&"dev".to_owned()));
        assert!(PoetryProject::beside(Path::new("/nonexistent/poetry.lock")).is_err());
    }

    #[test]
    fn old_locks_use_categories_and_no_markers() {
        let text = "[[package]]\nname = \"pytest\"\nversion = \"8.0.0\"\ncategory = \"dev\"\noptional = false\n\n[[package]]\nname = \"flask\"\nversion = \"3.0.0\"\ncategory = \"main\"\noptional = false\n\n[metadata]\nlock-version = \"1.1\"\n";
        let lock = parse(text, Path::new("poetry.lock")).unwrap();
        assert!(!lock.markers_recorded);
        let no_dev = GroupSelection {
            no_dev: true,
            ..GroupSelection::default()
        };
        assert_eq!(
            names(
                &lock
                    .select(
                        &no_dev,
                        &PoetryProject::default(),
                        &MarkerTarget::everything()
                    )
                    .unwrap()
            ),
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
