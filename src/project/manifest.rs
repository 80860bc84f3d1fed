//! A project's manifest as the recording installers see it: every requirement of its
//! `pyproject.toml` (`[project]`, extras, dependency groups, PDM's and Poetry's groups) or
//! `Pipfile`, with where it is kept. Read by `-a install` (what to re-add, where the
//! instrumentations go) and by `--check` (where its fix goes).

use std::collections::HashSet;
use std::path::Path;

use std::fmt;

use crate::requirement::{normalize, PlainRequirement};

/// Where in a project a requirement is recorded.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Place {
    /// The main dependencies (`[project].dependencies`, Pipfile `[packages]`).
    Main,
    /// A dependency group (`[dependency-groups]`, `[tool.poetry.group.<name>]`, a Pipfile
    /// category such as `dev-packages`).
    Group(String),
    /// An extra (`[project.optional-dependencies]`).
    Extra(String),
}

impl fmt::Display for Place {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Main => formatter.write_str("the main dependencies"),
            Self::Group(name) => write!(formatter, "the group `{name}`"),
            Self::Extra(name) => write!(formatter, "the extra `{name}`"),
        }
    }
}

/// What a recording installer is measured against: the project's `pyproject.toml` (or
/// pipenv's `Pipfile`), read once.
pub(crate) struct Manifest {
    /// The normalized `[project].name`.
    pub(crate) name: Option<String>,
    /// Every requirement the project lists, as written (PEP 508), with where it is kept.
    pub(crate) entries: Vec<(Place, String)>,
}

/// Marks a Poetry `^` / `~` constraint (not PEP 440) in [`Manifest::entries`].
pub(crate) const POETRY_BOUND: &str = " @ poetry:";

impl Manifest {
    /// Reads `<root>/pyproject.toml` (`<root>/Pipfile` for pipenv); an unreadable file has
    /// no name and no requirements.
    pub(crate) fn read(root: &Path, pipfile: bool) -> Self {
        let file = if pipfile { "Pipfile" } else { "pyproject.toml" };
        let document =
            crate::untrusted::read_text(&root.join(file), crate::untrusted::FileKind::Pyproject)
                .ok()
                .and_then(|text| text.parse::<toml::Table>().ok())
                .unwrap_or_default();
        if pipfile {
            return Self {
                name: None,
                entries: pipfile_entries(&document),
            };
        }
        let project = document.get("project");
        let mut entries: Vec<(Place, String)> =
            strings(project.and_then(|project| project.get("dependencies")))
                .into_iter()
                .map(|requirement| (Place::Main, requirement))
                .collect();
        for (extra, list) in
            tables(project.and_then(|project| project.get("optional-dependencies")))
        {
            entries.extend(
                strings(Some(list))
                    .into_iter()
                    .map(|requirement| (Place::Extra(extra.clone()), requirement)),
            );
        }
        let pdm_groups = document
            .get("tool")
            .and_then(|tool| tool.get("pdm"))
            .and_then(|pdm| pdm.get("dev-dependencies"));
        for (group, list) in tables(document.get("dependency-groups"))
            .into_iter()
            .chain(tables(pdm_groups))
        {
            entries.extend(
                strings(Some(list))
                    .into_iter()
                    .map(|requirement| (Place::Group(group.clone()), requirement)),
            );
        }
        let poetry = document.get("tool").and_then(|tool| tool.get("poetry"));
        for (group, table) in tables(poetry.and_then(|poetry| poetry.get("group"))) {
            entries.extend(
                poetry_entries(table.get("dependencies"))
                    .into_iter()
                    .map(|requirement| (Place::Group(group.clone()), requirement)),
            );
        }
        entries.extend(
            poetry_entries(poetry.and_then(|poetry| poetry.get("dependencies")))
                .into_iter()
                .filter(|requirement| {
                    requirement != "python" && !requirement.starts_with("python ")
                })
                .map(|requirement| (Place::Main, requirement)),
        );
        Self {
            name: project
                .and_then(|project| project.get("name"))
                .and_then(|name| name.as_str())
                .map(normalize),
            entries,
        }
    }

    /// Where the project keeps `name` (its first listing).
    pub(crate) fn place_of(&self, name: &str) -> Option<Place> {
        self.entries
            .iter()
            .find(|(_, requirement)| entry_name(requirement) == name)
            .map(|(place, _)| place.clone())
    }

    /// Whether the project lists every target, anywhere.
    pub(crate) fn lists<'a>(
        &self,
        targets: impl IntoIterator<Item = &'a PlainRequirement>,
    ) -> bool {
        let listed: HashSet<String> = self
            .entries
            .iter()
            .map(|(_, requirement)| entry_name(requirement))
            .collect();
        targets
            .into_iter()
            .all(|target| listed.contains(target.name.as_ref()))
    }
}

/// The normalized name an entry of [`Manifest::entries`] starts with.
pub(crate) fn entry_name(requirement: &str) -> String {
    normalize(crate::requirement::leading_name(requirement))
}

/// The strings of a TOML array (other items skipped).
fn strings(value: Option<&toml::Value>) -> Vec<String> {
    value
        .and_then(|value| value.as_array())
        .into_iter()
        .flatten()
        .filter_map(|item| item.as_str())
        .map(str::to_owned)
        .collect()
}

/// The entries of a TOML table.
fn tables(value: Option<&toml::Value>) -> Vec<(&String, &toml::Value)> {
    value
        .and_then(|value| value.as_table())
        .map(|table| table.iter().collect())
        .unwrap_or_default()
}

/// Poetry's `name = "<constraint>"` tables as PEP 508 text, or `name @ poetry:<constraint>`
/// when the constraint is not PEP 440 (Poetry's `^` and `~`), so that a bound Poetry wrote
/// is always found and re-added when its package moves.
fn poetry_entries(table: Option<&toml::Value>) -> Vec<String> {
    tables(table)
        .into_iter()
        .map(|(name, constraint)| {
            let version = constraint_text(constraint);
            if version == "*" || version.is_empty() {
                name.clone()
            } else if version.starts_with(['^', '~']) && !version.starts_with("~=") {
                format!("{name}{POETRY_BOUND}{version}")
            } else {
                format!("{name}{version}")
            }
        })
        .collect()
}

/// The version constraint of a Poetry or Pipfile entry: `"<constraint>"` or
/// `{ version = "<constraint>", ... }`; `*` when there is none.
fn constraint_text(constraint: &toml::Value) -> &str {
    constraint
        .as_str()
        .or_else(|| {
            constraint
                .get("version")
                .and_then(|version| version.as_str())
        })
        .unwrap_or("*")
        .trim()
}

/// A Pipfile's categories as PEP 508 requirements: `[packages]` is the main place,
/// `[dev-packages]` and any other category a group.
fn pipfile_entries(document: &toml::Table) -> Vec<(Place, String)> {
    let mut entries = Vec::new();
    for (category, table) in document {
        if matches!(
            category.as_str(),
            "source" | "requires" | "pipenv" | "scripts"
        ) {
            continue;
        }
        let place = if category == "packages" {
            Place::Main
        } else {
            Place::Group(category.clone())
        };
        for (name, constraint) in tables(Some(table)) {
            let version = constraint_text(constraint);
            let requirement = if version == "*" || version.is_empty() {
                name.clone()
            } else {
                format!("{name}{version}")
            };
            entries.push((place.clone(), requirement));
        }
    }
    entries
}
