//! `pylock.toml` (PEP 751): a flat list of `[[packages]]`, each installed when its
//! `marker` holds.
//!
//! Markers may test the lock's extras and dependency groups (`'dev' in
//! dependency_groups`), which PEP 508 parsers do not know: those tests are rewritten to
//! `extra == …` tests first, and evaluated with the selected groups (the file's
//! `default-groups`, minus `dev` with `--no-dev`, plus `--group`) and no extras. The
//! lock's `environments` and the packages' `requires-python` are not checked.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::requirement::{ExtraName, MarkerTree, PackageName};
use serde::Deserialize;
use toml::Spanned;

use super::marker::{parse_marker, MarkerTarget};
use super::{package_name, GroupSelection, LineIndex, Location, LockedPackage, LockfileError};

/// The prefix of the synthetic extra a dependency group becomes.
const GROUP_PREFIX: &str = "pylock-group-";

/// A parsed `pylock.toml`.
#[derive(Debug, Clone)]
pub(crate) struct Pylock {
    path: PathBuf,
    /// The lock's `extras` (normalized).
    extras: Vec<String>,
    supported: super::Supported,
    default_groups: Vec<String>,
    packages: Vec<Package>,
}

#[derive(Debug, Clone)]
struct Package {
    name: PackageName,
    version: Option<String>,
    marker: MarkerTree,
    line: usize,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawLock {
    lock_version: Spanned<String>,
    #[serde(default)]
    default_groups: Vec<String>,
    requires_python: Option<String>,
    #[serde(default)]
    environments: Vec<Spanned<String>>,
    #[serde(default)]
    extras: Vec<String>,
}

#[derive(Deserialize)]
struct RawPackages {
    #[serde(default)]
    packages: Vec<RawPackage>,
}

fn raw_packages(text: &str) -> Result<Vec<RawPackage>, toml::de::Error> {
    toml::from_str::<RawPackages>(text).map(|raw| raw.packages)
}

#[derive(Deserialize)]
struct RawPackage {
    name: Spanned<String>,
    version: Option<String>,
    marker: Option<Spanned<String>>,
}

/// Parses a `pylock.toml`. Pure; errors name the line.
pub(crate) fn parse(text: &str, origin: &Path) -> Result<Pylock, LockfileError> {
    let lines = LineIndex::new(text);
    let (raw, raw_packages): (RawLock, _) =
        super::tables::parse(text, origin, &lines, "packages", raw_packages)?;
    let major = raw
        .lock_version
        .get_ref()
        .split('.')
        .next()
        .unwrap_or_default();
    if major != "1" {
        return Err(LockfileError::malformed(
            origin,
            lines.line(raw.lock_version.span().start),
            format!(
                "`lock-version = \"{}\"`: only version 1 is supported",
                raw.lock_version.get_ref()
            ),
        ));
    }
    let mut packages = Vec::with_capacity(raw_packages.len());
    let mut markers: HashMap<String, MarkerTree> = HashMap::new();
    for (base, package) in raw_packages {
        let line = lines.line(base + package.name.span().start);
        let name = package_name(origin, &lines, base, "packages.name", &package.name)?;
        let marker = match &package.marker {
            Some(marker) => match markers.get(marker.get_ref()) {
                Some(parsed) => parsed.clone(),
                None => {
                    let parsed =
                        parse_marker(&rewrite_marker(marker.get_ref())).map_err(|message| {
                            LockfileError::malformed(
                                origin,
                                lines.line(base + marker.span().start),
                                format!("`packages.marker`: {message}"),
                            )
                        })?;
                    markers.insert(marker.get_ref().clone(), parsed.clone());
                    parsed
                }
            },
            None => MarkerTree::TRUE,
        };
        packages.push(Package {
            name,
            version: package.version,
            marker,
            line,
        });
    }
    Ok(Pylock {
        path: origin.to_owned(),
        extras: raw
            .extras
            .iter()
            .map(|extra| crate::requirement::normalize(extra))
            .collect(),
        supported: super::Supported {
            requires_python: raw.requires_python,
            environments: super::parse_environments(
                origin,
                &lines,
                "environments",
                &raw.environments,
            )?,
        },
        default_groups: raw.default_groups,
        packages,
    })
}

impl Pylock {
    /// The Python versions and environments the lock was made for.
    pub(crate) fn supported(&self) -> &super::Supported {
        &self.supported
    }

    /// The packages whose marker holds on `target` for the selected groups.
    pub(crate) fn select(
        &self,
        selection: &GroupSelection,
        target: &MarkerTarget,
    ) -> Result<Vec<LockedPackage>, LockfileError> {
        let mut extras = Vec::new();
        let wanted: Vec<String> = if selection.all_extras {
            self.extras.clone()
        } else {
            selection
                .extras
                .iter()
                .map(|extra| crate::requirement::normalize(extra))
                .collect()
        };
        for extra in wanted {
            if !self.extras.contains(&extra) {
                return Err(LockfileError::unusable(
                    &self.path,
                    format!("extra `{extra}` is not one of the lock's `extras`"),
                ));
            }
            if let Ok(name) = ExtraName::new(extra) {
                extras.push(name);
            }
        }
        for group in selection.resolve(&self.default_groups) {
            let extra = ExtraName::new(format!("{GROUP_PREFIX}{group}")).map_err(|_| {
                LockfileError::unusable(
                    &self.path,
                    format!("`{group}` is not a valid dependency group name"),
                )
            })?;
            extras.push(extra);
        }
        Ok(self
            .packages
            .iter()
            .filter(|package| target.evaluate(&package.marker, &extras))
            .map(|package| {
                LockedPackage::new(
                    package.name.clone(),
                    package.version.as_deref().unwrap_or_default(),
                    Location {
                        file: self.path.clone(),
                        line: package.line,
                    },
                )
            })
            .collect())
    }
}

/// Rewrites `'x' in extras` to `extra == 'x'` and `'g' in dependency_groups` to
/// `extra == 'pylock-group-g'` (and `not in` to `!=`), leaving everything else alone.
fn rewrite_marker(marker: &str) -> String {
    let mut output = String::with_capacity(marker.len());
    let mut rest = marker;
    while let Some(start) = rest.find(['\'', '"']) {
        output.push_str(&rest[..start]);
        let quote = rest[start..].chars().next().unwrap_or('\'');
        let after_open = &rest[start + 1..];
        let Some(length) = after_open.find(quote) else {
            output.push_str(&rest[start..]);
            return output;
        };
        let value = &after_open[..length];
        let literal_end = start + 1 + length + 1;
        let tail = &rest[literal_end..];
        match membership_test(tail) {
            Some((negated, variable, consumed)) => {
                let name = crate::requirement::normalize(value.trim());
                let prefix = if variable == "dependency_groups" {
                    GROUP_PREFIX
                } else {
                    ""
                };
                let operator = if negated { "!=" } else { "==" };
                output.push_str(&format!("extra {operator} '{prefix}{name}'"));
                rest = &tail[consumed..];
            }
            None => {
                output.push_str(&rest[start..literal_end]);
                rest = tail;
            }
        }
    }
    output.push_str(rest);
    output
}

/// Matches `\s+(not\s+)?in\s+(extras|dependency_groups)\b` at the start of `text`:
/// `(negated, variable, bytes consumed)`.
fn membership_test(text: &str) -> Option<(bool, &'static str, usize)> {
    let words: Vec<(usize, &str)> = text
        .split_whitespace()
        .take(3)
        .map(|word| (word.as_ptr() as usize - text.as_ptr() as usize, word))
        .collect();
    let (negated, variable_index) = match words.as_slice() {
        [(_, "not"), (_, "in"), ..] => (true, 2),
        [(_, "in"), ..] => (false, 1),
        _ => return None,
    };
    let (offset, word) = *words.get(variable_index)?;
    for variable in ["dependency_groups", "extras"] {
        if let Some(after) = word.strip_prefix(variable) {
            let boundary = after
                .chars()
                .next()
                .is_none_or(|character| !(character.is_alphanumeric() || character == '_'));
            if boundary {
                return Some((negated, variable, offset + variable.len()));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lockfile::marker::{MarkerValues, Platform, TargetSource};

    const LOCK: &str = r#"lock-version = "1.0"
created-by = "uv"
requires-python = ">=3.9"
dependency-groups = ["dev", "docs"]
default-groups = ["dev"]

[[packages]]
name = "flask"
version = "3.0.0"
index = "https://pypi.org/simple"
wheels = [{ url = "https://x/flask-3.0.0-py3-none-any.whl", hashes = { sha256 = "00" } }]

[[packages]]
name = "pywin32"
version = "306"
marker = "sys_platform == 'win32'"

[[packages]]
name = "pytest"
version = "8.0.0"
marker = "'dev' in dependency_groups"

[[packages]]
name = "sphinx"
version = "7.0.0"
marker = "\"docs\" in dependency_groups and python_version >= '3.9'"
"#;

    fn names(packages: &[LockedPackage]) -> Vec<String> {
        packages
            .iter()
            .map(|package| package.name.to_string())
            .collect()
    }

    #[test]
    fn selects_by_marker_and_group() {
        let lock = parse(LOCK, Path::new("pylock.toml")).unwrap();
        let values = MarkerValues::synthetic("3.12", Platform::Linux).unwrap();
        let linux = MarkerTarget::from_values(values, TargetSource::Flags).unwrap();
        let selected = lock.select(&GroupSelection::default(), &linux).unwrap();
        assert_eq!(names(&selected), ["flask", "pytest"]);
        assert_eq!(selected[0].location.to_string(), "pylock.toml:8");
        let docs = GroupSelection {
            no_dev: true,
            groups: vec!["docs".to_owned()],
            ..GroupSelection::default()
        };
        assert_eq!(
            names(&lock.select(&docs, &linux).unwrap()),
            ["flask", "sphinx"]
        );
        let everything = lock
            .select(&GroupSelection::default(), &MarkerTarget::everything())
            .unwrap();
        assert_eq!(names(&everything), ["flask", "pywin32", "pytest"]);
    }

    #[test]
    fn extras_select_packages_of_a_multi_use_lock() {
        let text = LOCK.replace(
            "default-groups = [\"dev\"]",
            "default-groups = [\"dev\"]\nextras = [\"DB\"]",
        ) + "\n[[packages]]\nname = \"sqlalchemy\"\nversion = \"2.0.30\"\nmarker = \"'db' in extras\"\n";
        let lock = parse(&text, Path::new("pylock.toml")).unwrap();
        let everything = MarkerTarget::everything();
        let plain = lock
            .select(&GroupSelection::default(), &everything)
            .unwrap();
        assert!(!names(&plain).contains(&"sqlalchemy".to_owned()));
        for selection in [
            GroupSelection {
                extras: vec!["db".to_owned()],
                ..GroupSelection::default()
            },
            GroupSelection {
                all_extras: true,
                ..GroupSelection::default()
            },
        ] {
            let selected = lock.select(&selection, &everything).unwrap();
            assert!(names(&selected).contains(&"sqlalchemy".to_owned()));
        }
        let unknown = GroupSelection {
            extras: vec!["nope".to_owned()],
            ..GroupSelection::default()
        };
        assert!(lock.select(&unknown, &everything).is_err());
    }

    #[test]
    fn rewrites_membership_tests_only() {
        assert_eq!(
            rewrite_marker("'dev' in dependency_groups or 'Async' not  in extras"),
            "extra == 'pylock-group-dev' or extra != 'async'"
        );
        assert_eq!(
            rewrite_marker("os_name == 'in' and 'x' in extrasy"),
            "os_name == 'in' and 'x' in extrasy"
        );
        for odd in ["'", "'a' in", "\"a' in extras", "'a' not", "in extras '"] {
            let _ = rewrite_marker(odd);
        }
    }

    #[test]
    fn malformed_locks_name_the_line() {
        for (text, line) in [
            ("lock-version = \"2.0\"\n", 1),
            ("lock-version = \"1.0\"\n[[packages]]\nname = \"a.\"\n", 3),
            (
                "lock-version = \"1.0\"\n[[packages]]\nname = \"a\"\nmarker = \"os_name =\"\n",
                4,
            ),
            ("lock-version = 1\n", 1),
            ("[[packages]]\nname = \"a\"\n", 1),
        ] {
            match parse(text, Path::new("pylock.toml")) {
                Err(LockfileError::Malformed { line: found, .. }) => {
                    assert_eq!(found, line, "{text}")
                }
                other => panic!("{text}: {other:?}"),
            }
        }
    }
}
