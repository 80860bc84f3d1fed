//! `pdm.lock`: PDM's TOML lock.
//!
//! A `[metadata]` table (`groups` locked, `strategy`, `lock_version`) and a flat list of
//! `[[package]]`. With the `inherit_metadata` strategy (PDM's default since 2.11) each
//! package records the `groups` that need it and one `marker` for where it is needed, so
//! what `pdm sync` installs can be read from the lock: a package is installed when one of
//! its groups is selected and its marker holds. Groups are selected as `pdm sync` does
//! ([`PdmLock::selected_groups`]): with no selection, every group the lock holds; else
//! `default`, the groups `--group`/`--with`/`--extra` name (PDM's `-G`), every
//! development group (`[dependency-groups]`, `[tool.pdm.dev-dependencies]` of the
//! `pyproject.toml` beside the lock) unless `--no-dev` (PDM's `--prod`) or one was named,
//! minus `--without`; `--only` reads exactly the groups it names. A lock without
//! per-package groups (another strategy) cannot be selected from: every package counts,
//! and a note says so.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::requirement::{MarkerTree, PackageName};
use serde::Deserialize;
use toml::Spanned;

use super::marker::{parse_marker, MarkerTarget};
use super::{package_name, GroupSelection, LineIndex, LockedPackage, LockfileError};

/// A parsed `pdm.lock`.
#[derive(Debug, Clone)]
pub(crate) struct PdmLock {
    path: PathBuf,
    /// `metadata.groups`, normalized.
    pub(crate) groups: Vec<String>,
    packages: Vec<Package>,
    /// Whether packages carry `groups` (the `inherit_metadata` strategy).
    pub(crate) groups_recorded: bool,
}

#[derive(Debug, Clone)]
struct Package {
    name: PackageName,
    version: String,
    line: usize,
    /// Normalized; empty when the lock records none.
    groups: Vec<String>,
    marker: MarkerTree,
}

#[derive(Deserialize)]
struct RawLock {
    metadata: RawMetadata,
}

#[derive(Deserialize)]
struct RawMetadata {
    #[serde(default)]
    groups: Vec<String>,
    lock_version: Option<Spanned<String>>,
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
struct RawPackage {
    name: Spanned<String>,
    #[serde(default)]
    version: String,
    groups: Option<Vec<String>>,
    marker: Option<Spanned<String>>,
}

/// Whether a TOML document is a `pdm.lock`: `[metadata]` with PDM's `lock_version`
/// (Poetry writes `lock-version`).
pub(crate) fn looks_like(table: &toml::Table) -> bool {
    table
        .get("metadata")
        .and_then(toml::Value::as_table)
        .is_some_and(|metadata| metadata.contains_key("lock_version"))
}

/// Parses a `pdm.lock`. Pure; errors name the line.
pub(crate) fn parse(text: &str, origin: &Path) -> Result<PdmLock, LockfileError> {
    let lines = LineIndex::new(text);
    let (raw, raw_packages): (RawLock, _) =
        super::tables::parse(text, origin, &lines, "package", raw_packages)?;
    if let Some(version) = &raw.metadata.lock_version {
        let major = version.get_ref().split('.').next().unwrap_or_default();
        if major != "4" {
            return Err(LockfileError::malformed(
                origin,
                lines.line(version.span().start),
                format!(
                    "`metadata.lock_version = \"{}\"`: only lock version 4.x (PDM 2) is supported",
                    version.get_ref()
                ),
            ));
        }
    }
    let mut packages = Vec::with_capacity(raw_packages.len());
    let mut groups_recorded = !raw_packages.is_empty();
    for (base, package) in raw_packages {
        let line = lines.line(base + package.name.span().start);
        let name = package_name(origin, &lines, base, "package.name", &package.name)?;
        let marker = match &package.marker {
            Some(marker) => parse_marker(marker.get_ref()).map_err(|message| {
                LockfileError::malformed(
                    origin,
                    lines.line(base + marker.span().start),
                    format!("`package.marker`: {message}"),
                )
            })?,
            None => MarkerTree::TRUE,
        };
        groups_recorded &= package.groups.is_some();
        packages.push(Package {
            name,
            version: package.version,
            line,
            groups: package
                .groups
                .unwrap_or_default()
                .iter()
                .map(|group| crate::requirement::normalize(group))
                .collect(),
            marker,
        });
    }
    Ok(PdmLock {
        path: origin.to_owned(),
        groups: raw
            .metadata
            .groups
            .iter()
            .map(|group| crate::requirement::normalize(group))
            .collect(),
        packages,
        groups_recorded,
    })
}

impl PdmLock {
    /// The groups `pdm sync` installs for `selection`, given the project's group kinds:
    /// with no selection flag, every group in the lock (that the project still defines);
    /// otherwise `default`, the groups named (`--group`/`--with`/`--extra`; every optional
    /// group with `--all-extras`, or with `--without` alone, as PDM's `:all`), every
    /// development group unless `--no-dev` or a development group was named, minus
    /// `--without`. `--only` is exactly the groups it names.
    pub(crate) fn selected_groups(
        &self,
        selection: &GroupSelection,
        project: &PdmProject,
    ) -> Result<Vec<String>, LockfileError> {
        let normalize = |names: &[String]| -> Vec<String> {
            names
                .iter()
                .map(|name| crate::requirement::normalize(name))
                .collect()
        };
        if selection.package.is_some() || selection.all_packages {
            return Err(LockfileError::Unsupported {
                path: self.path.clone(),
                message: "`--package` and `--all-packages` select uv workspace members; this is a pdm.lock".to_owned(),
                hint: "select groups with `--group`, `--extra`, `--without`, `--only` or `--no-dev`".to_owned(),
            });
        }
        let mut known: BTreeSet<String> = self.groups.iter().cloned().collect();
        known.insert("default".to_owned());
        let requested: Vec<String> = normalize(&selection.groups)
            .into_iter()
            .chain(normalize(&selection.with))
            .chain(normalize(&selection.extras))
            .collect();
        let without = normalize(&selection.without);
        let only = normalize(&selection.only);
        for group in requested.iter().chain(&without).chain(&only) {
            if !known.contains(group) {
                // `pdm lock` locks every group the project defines; `pdm lock -G NAME`
                // would lock that one and the default only, and ignores a name the
                // project does not define (PDM 2.29).
                return Err(LockfileError::Unsupported {
                    path: self.path.clone(),
                    message: format!(
                        "group `{group}` is not in the lock (groups: {})",
                        known.iter().cloned().collect::<Vec<_>>().join(", ")
                    ),
                    hint: format!(
                        "check the group's name; if the project defines `{group}`, re-lock every group with `{}`",
                        crate::project::in_directory(
                            "pdm lock",
                            self.path.parent().unwrap_or(Path::new("")),
                            Path::new(".")
                        )
                    ),
                });
            }
        }
        if !only.is_empty() {
            return Ok(only);
        }
        let unset = requested.is_empty()
            && without.is_empty()
            && !selection.no_dev
            && !selection.dev
            && !selection.all_extras;
        let (optional, development): (Vec<String>, Vec<String>) = match project {
            PdmProject::Known {
                optional,
                development,
            } => (optional.clone(), development.clone()),
            PdmProject::Unknown => (
                Vec::new(),
                self.groups
                    .iter()
                    .filter(|group| *group != "default")
                    .cloned()
                    .collect(),
            ),
        };
        if unset {
            let mut groups: Vec<String> = self
                .groups
                .iter()
                .filter(|group| {
                    *group == "default"
                        || matches!(project, PdmProject::Unknown)
                        || optional.contains(group)
                        || development.contains(group)
                })
                .cloned()
                .collect();
            if groups.is_empty() {
                groups.push("default".to_owned());
            }
            return Ok(groups);
        }
        let mut selected: BTreeSet<String> = requested.iter().cloned().collect();
        let names_development = requested.iter().any(|group| development.contains(group));
        if !names_development && !selection.no_dev {
            selected.extend(development.iter().cloned());
        }
        let all_optional = selection.all_extras
            || (requested.is_empty() && !without.is_empty() && !selection.no_dev && !selection.dev);
        if all_optional {
            selected.extend(optional.iter().cloned());
        }
        selected.insert("default".to_owned());
        for group in &without {
            selected.remove(group);
        }
        // Only what the lock holds (PDM ignores a project group that was not locked).
        Ok(selected
            .into_iter()
            .filter(|group| known.contains(group))
            .collect())
    }

    /// The packages `pdm sync` installs on `target` for `selection`, in file order.
    pub(crate) fn select(
        &self,
        selection: &GroupSelection,
        project: &PdmProject,
        target: &MarkerTarget,
    ) -> Result<Vec<LockedPackage>, LockfileError> {
        let groups = self.selected_groups(selection, project)?;
        Ok(self
            .packages
            .iter()
            .filter(|package| {
                !self.groups_recorded || package.groups.iter().any(|group| groups.contains(group))
            })
            .filter(|package| target.evaluate(&package.marker, &[]))
            .map(|package| {
                LockedPackage::at(
                    package.name.clone(),
                    &package.version,
                    &self.path,
                    package.line,
                )
            })
            .collect())
    }
}

/// What the `pyproject.toml` beside a `pdm.lock` says about its groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PdmProject {
    /// Read: the optional groups (`[project.optional-dependencies]`) and the development
    /// groups (`[dependency-groups]`, `[tool.pdm.dev-dependencies]`), normalized.
    Known {
        optional: Vec<String>,
        development: Vec<String>,
    },
    /// Not read: every locked group but `default` counts as a development group.
    Unknown,
}

impl PdmProject {
    /// Reads the `pyproject.toml` beside `lock_path`.
    pub(crate) fn beside(lock_path: &Path) -> Result<Self, String> {
        let pyproject = lock_path
            .parent()
            .unwrap_or_else(|| Path::new(""))
            .join("pyproject.toml");
        let text = crate::untrusted::read_text(&pyproject, crate::untrusted::FileKind::Pyproject)
            .map_err(|error| {
            format!(
                "cannot read `{}` ({error}): every locked group is read as a development group",
                pyproject.display()
            )
        })?;
        Self::parse(&text).map_err(|error| {
            format!(
                "`{}`: {error}: every locked group is read as a development group",
                pyproject.display()
            )
        })
    }

    /// The groups a `pyproject.toml`'s text defines.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let table: toml::Table = text.parse().map_err(|_| "not valid TOML".to_owned())?;
        let keys = |value: Option<&toml::Value>| -> Vec<String> {
            value
                .and_then(toml::Value::as_table)
                .map(|groups| {
                    groups
                        .keys()
                        .map(|group| crate::requirement::normalize(group))
                        .collect()
                })
                .unwrap_or_default()
        };
        let optional = keys(
            table
                .get("project")
                .and_then(|project| project.get("optional-dependencies")),
        );
        let mut development = keys(table.get("dependency-groups"));
        development.extend(keys(
            table
                .get("tool")
                .and_then(|tool| tool.get("pdm"))
                .and_then(|pdm| pdm.get("dev-dependencies")),
        ));
        development.sort();
        development.dedup();
        Ok(Self::Known {
            optional,
            development,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"# This file is @generated by PDM.
# It is not intended for manual editing.

[metadata]
groups = ["default", "dev", "postgres", "docs"]
strategy = ["inherit_metadata"]
lock_version = "4.5.0"
content_hash = "sha256:00"

[[metadata.targets]]
requires_python = ">=3.11"

[[package]]
name = "flask"
version = "3.0.0"
requires_python = ">=3.8"
summary = "A simple framework for building complex web applications."
groups = ["default"]
dependencies = ["blinker>=1.6.2"]
files = [
    {file = "flask-3.0.0-py3-none-any.whl", hash = "sha256:00"},
]

[[package]]
name = "colorama"
version = "0.4.6"
groups = ["default", "dev"]
marker = "sys_platform == \"win32\""

[[package]]
name = "pytest"
version = "8.0.0"
groups = ["dev"]

[[package]]
name = "psycopg2"
version = "2.9.9"
groups = ["postgres"]

[[package]]
name = "sphinx"
version = "7.0.0"
groups = ["docs"]
"#;

    const PYPROJECT: &str = r#"[project]
name = "app"
dependencies = ["flask"]
[project.optional-dependencies]
postgres = ["psycopg2"]
[dependency-groups]
dev = ["pytest"]
[tool.pdm.dev-dependencies]
docs = ["sphinx"]
"#;

    fn linux() -> MarkerTarget {
        super::super::marker::choose_target(
            None,
            Some("3.11"),
            Some(super::super::marker::Platform::Linux),
            &mut Vec::new(),
        )
        .unwrap()
    }

    fn names(lock: &PdmLock, selection: GroupSelection) -> Vec<String> {
        let project = PdmProject::parse(PYPROJECT).unwrap();
        lock.select(&selection, &project, &linux())
            .unwrap()
            .iter()
            .map(|package| format!("{}@{}", package.name, package.location.line))
            .collect()
    }

    #[test]
    fn groups_follow_pdm_sync() {
        let lock = parse(LOCK, Path::new("pdm.lock")).unwrap();
        assert!(lock.groups_recorded);
        // No selection: every locked group, as `pdm sync` does.
        assert_eq!(
            names(&lock, GroupSelection::default()),
            ["flask@14", "pytest@31", "psycopg2@36", "sphinx@41"]
        );
        // A selection: default, what it names, and the development groups.
        assert_eq!(
            names(
                &lock,
                GroupSelection {
                    extras: vec!["postgres".to_owned()],
                    ..GroupSelection::default()
                }
            ),
            ["flask@14", "pytest@31", "psycopg2@36", "sphinx@41"]
        );
        assert_eq!(
            names(
                &lock,
                GroupSelection {
                    groups: vec!["docs".to_owned()],
                    ..GroupSelection::default()
                }
            ),
            ["flask@14", "sphinx@41"]
        );
        assert_eq!(
            names(
                &lock,
                GroupSelection {
                    no_dev: true,
                    ..GroupSelection::default()
                }
            ),
            ["flask@14"]
        );
        assert_eq!(
            names(
                &lock,
                GroupSelection {
                    no_dev: true,
                    extras: vec!["postgres".to_owned()],
                    ..GroupSelection::default()
                }
            ),
            ["flask@14", "psycopg2@36"]
        );
        assert_eq!(
            names(
                &lock,
                GroupSelection {
                    without: vec!["docs".to_owned()],
                    ..GroupSelection::default()
                }
            ),
            ["flask@14", "pytest@31", "psycopg2@36"]
        );
        assert_eq!(
            names(
                &lock,
                GroupSelection {
                    only: vec!["docs".to_owned()],
                    ..GroupSelection::default()
                }
            ),
            ["sphinx@41"]
        );
        let error = lock
            .select(
                &GroupSelection {
                    groups: vec!["lint".to_owned()],
                    ..GroupSelection::default()
                },
                &PdmProject::Unknown,
                &linux(),
            )
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "`pdm.lock`: group `lint` is not in the lock (groups: default, dev, docs, postgres)"
        );
        assert_eq!(
            error.hint().unwrap(),
            "check the group's name; if the project defines `lint`, re-lock every group with `pdm lock`"
        );
    }

    #[test]
    fn errors_name_the_line() {
        let bad_marker = LOCK.replace("sys_platform == \\\"win32\\\"", "sys_platform >< 1");
        let error = parse(&bad_marker, Path::new("pdm.lock")).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("`pdm.lock` line 28: `package.marker`: "),
            "{error}"
        );
        let bad_version = LOCK.replace("4.5.0", "5.0");
        assert_eq!(
            parse(&bad_version, Path::new("pdm.lock"))
                .unwrap_err()
                .to_string(),
            "`pdm.lock` line 7: `metadata.lock_version = \"5.0\"`: only lock version 4.x (PDM 2) is supported"
        );
        let bad_name = LOCK.replace("name = \"pytest\"", "name = \"py test\"");
        assert_eq!(
            parse(&bad_name, Path::new("pdm.lock"))
                .unwrap_err()
                .to_string(),
            "`pdm.lock` line 31: `package.name`: `py test` is not a valid package name"
        );
    }
}
