//! `Pipfile.lock`: pipenv's JSON lock.
//!
//! One object: `_meta` (hash, sources, `requires`), then one object per package
//! category: `default` (the Pipfile's `[packages]`), `develop` (`[dev-packages]`) and any
//! custom category (`[docs]` → `docs`). Each category maps a package name to its entry:
//! `version` (`"==3.0.0"`; absent for a path, VCS or file requirement), `markers`, hashes
//! and index. `pipenv sync` installs `default`, with `--dev` also `develop`, or the
//! categories `--categories` names; a package is installed when its `markers` hold.
//! Here `--dev` reads `develop`, `--group`/`--with` add a category, `--without` removes
//! one and `--only` reads only those named (`packages` and `dev-packages`, the Pipfile's
//! names, are accepted for `default` and `develop`).

use std::path::{Path, PathBuf};

use crate::requirement::{MarkerTree, PackageName};

use super::json::{self, Node, Value};
use super::marker::{parse_marker, MarkerTarget};
use super::{GroupSelection, LockedPackage, LockfileError};

/// A parsed `Pipfile.lock`.
#[derive(Debug, Clone)]
pub(crate) struct PipfileLock {
    path: PathBuf,
    /// The categories in file order, each with its packages in file order.
    categories: Vec<Category>,
}

#[derive(Debug, Clone)]
struct Category {
    /// As written in the lock (`default`, `develop`, `docs`).
    name: String,
    packages: Vec<Package>,
}

#[derive(Debug, Clone)]
struct Package {
    name: PackageName,
    /// The version without its `==` (empty when the entry has none).
    version: String,
    line: usize,
    marker: MarkerTree,
}

/// Whether `text` looks like a `Pipfile.lock`: a JSON object with `_meta` or one of the
/// standard categories.
pub(crate) fn looks_like(document: &Node) -> bool {
    ["_meta", "default", "develop"]
        .iter()
        .any(|key| document.get(key).is_some())
}

/// Parses a `Pipfile.lock`. Pure; errors name the line.
pub(crate) fn parse(text: &str, origin: &Path) -> Result<PipfileLock, LockfileError> {
    let document = json::parse(text)
        .map_err(|error| LockfileError::malformed(origin, error.line, error.message))?;
    from_document(&document, origin)
}

/// Reads an already parsed JSON document.
pub(crate) fn from_document(document: &Node, origin: &Path) -> Result<PipfileLock, LockfileError> {
    let Value::Object(members) = &document.value else {
        return Err(LockfileError::malformed(
            origin,
            document.line,
            format!("a Pipfile.lock is a JSON object, not {}", document.kind()),
        ));
    };
    let mut categories = Vec::new();
    for (key, line, node) in members {
        if key == "_meta" {
            continue;
        }
        let Value::Object(entries) = &node.value else {
            return Err(LockfileError::malformed(
                origin,
                *line,
                format!(
                    "`{key}`: a package category is an object, not {}",
                    node.kind()
                ),
            ));
        };
        let mut packages = Vec::with_capacity(entries.len());
        for (raw_name, line, entry) in entries {
            packages.push(package(origin, key, raw_name, *line, entry)?);
        }
        categories.push(Category {
            name: key.clone(),
            packages,
        });
    }
    Ok(PipfileLock {
        path: origin.to_owned(),
        categories,
    })
}

fn package(
    origin: &Path,
    category: &str,
    raw_name: &str,
    line: usize,
    entry: &Node,
) -> Result<Package, LockfileError> {
    let name = crate::requirement::parse_name(raw_name).ok_or_else(|| {
        LockfileError::malformed(
            origin,
            line,
            format!("`{category}`: `{raw_name}` is not a valid package name"),
        )
    })?;
    if !matches!(entry.value, Value::Object(_)) {
        return Err(LockfileError::malformed(
            origin,
            line,
            format!(
                "`{category}.{raw_name}`: a package entry is an object, not {}",
                entry.kind()
            ),
        ));
    }
    let string_field = |field: &str| -> Result<Option<(&str, usize)>, LockfileError> {
        match entry.get(field) {
            None => Ok(None),
            Some(node) => match node.as_str() {
                Some(text) => Ok(Some((text, node.line))),
                None => Err(LockfileError::malformed(
                    origin,
                    node.line,
                    format!(
                        "`{category}.{raw_name}.{field}` is {}, not a string",
                        node.kind()
                    ),
                )),
            },
        }
    };
    let version = match string_field("version")? {
        // `==1.0`, `===1.0`; anything else is kept as written (and matches nothing).
        Some((text, _)) => text
            .trim()
            .strip_prefix("===")
            .or_else(|| text.trim().strip_prefix("=="))
            .unwrap_or(text)
            .trim()
            .to_owned(),
        None => String::new(),
    };
    let marker = match string_field("markers")? {
        Some((text, marker_line)) => parse_marker(text).map_err(|message| {
            LockfileError::malformed(
                origin,
                marker_line,
                format!("`{category}.{raw_name}.markers`: {message}"),
            )
        })?,
        None => MarkerTree::TRUE,
    };
    Ok(Package {
        name,
        version,
        line,
        marker,
    })
}

/// The lock's name of a category given as the Pipfile names it.
fn lock_name(category: &str) -> &str {
    match category {
        "packages" => "default",
        "dev-packages" => "develop",
        other => other,
    }
}

impl PipfileLock {
    /// The categories `pipenv sync` would install for `selection`.
    fn selected<'lock>(
        &'lock self,
        selection: &'lock GroupSelection,
    ) -> Result<Vec<&'lock str>, LockfileError> {
        let known: Vec<&str> = self
            .categories
            .iter()
            .map(|category| category.name.as_str())
            .collect();
        if !selection.extras.is_empty() {
            return Err(LockfileError::Unsupported {
                path: self.path.clone(),
                message: "`--extra`: a Pipfile.lock has no project extras".to_owned(),
                hint: "pipenv locks an extra's packages into the category that asks for it: select the category with `--group NAME` (`--dev` for `develop`)".to_owned(),
            });
        }
        if selection.all_extras || selection.package.is_some() || selection.all_packages {
            return Err(LockfileError::Unsupported {
                path: self.path.clone(),
                message: "`--all-extras`, `--package` and `--all-packages` do not apply to a Pipfile.lock".to_owned(),
                hint: "select categories with `--dev`, `--group NAME`, `--without NAME` or `--only NAME`".to_owned(),
            });
        }
        let named = selection
            .groups
            .iter()
            .chain(&selection.with)
            .chain(&selection.without)
            .chain(&selection.only);
        for category in named {
            if !known.contains(&lock_name(category)) {
                // `pipenv lock` locks every category of the Pipfile.
                return Err(LockfileError::Unsupported {
                    path: self.path.clone(),
                    message: format!(
                        "category `{category}` is not in the lock (categories: {})",
                        known.join(", ")
                    ),
                    hint: format!(
                        "check the category's name; if the Pipfile defines `[{category}]`, re-lock with `{}`",
                        crate::project::in_directory(
                            "pipenv lock",
                            self.path.parent().unwrap_or(Path::new("")),
                            Path::new(".")
                        )
                    ),
                });
            }
        }
        if !selection.only.is_empty() {
            return Ok(selection
                .only
                .iter()
                .map(|category| lock_name(category))
                .collect());
        }
        let mut selected = vec!["default"];
        if selection.dev {
            selected.push("develop");
        }
        for category in selection.groups.iter().chain(&selection.with) {
            selected.push(lock_name(category));
        }
        selected.retain(|category| {
            !selection
                .without
                .iter()
                .any(|without| lock_name(without) == *category)
        });
        Ok(selected)
    }

    /// The packages `pipenv sync` installs on `target` for `selection`, in category order
    /// then file order.
    pub(crate) fn select(
        &self,
        selection: &GroupSelection,
        target: &MarkerTarget,
    ) -> Result<Vec<LockedPackage>, LockfileError> {
        let selected = self.selected(selection)?;
        Ok(self
            .categories
            .iter()
            .filter(|category| selected.contains(&category.name.as_str()))
            .flat_map(|category| &category.packages)
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

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"{
    "_meta": {
        "hash": {"sha256": "00"},
        "pipfile-spec": 6,
        "requires": {"python_version": "3.11"},
        "sources": [{"name": "pypi", "url": "https://pypi.org/simple", "verify_ssl": true}]
    },
    "default": {
        "flask": {"hashes": [], "index": "pypi", "markers": "python_version >= '3.8'", "version": "==3.0.0"},
        "colorama": {"markers": "sys_platform == 'win32'", "version": "==0.4.6"},
        "app": {"editable": true, "path": "."}
    },
    "develop": {
        "pytest": {"version": "==8.0.0"}
    },
    "docs": {
        "sphinx": {"version": "===7.0.0"}
    }
}
"#;

    fn names(packages: &[LockedPackage]) -> Vec<String> {
        packages
            .iter()
            .map(|package| {
                format!(
                    "{}=={}@{}",
                    package.name, package.raw_version, package.location.line
                )
            })
            .collect()
    }

    fn linux() -> MarkerTarget {
        super::super::marker::choose_target(
            None,
            Some("3.11"),
            Some(super::super::marker::Platform::Linux),
            &mut Vec::new(),
        )
        .unwrap()
    }

    #[test]
    fn categories_follow_pipenv_sync() {
        let lock = parse(LOCK, Path::new("Pipfile.lock")).unwrap();
        let select = |selection: GroupSelection| names(&lock.select(&selection, &linux()).unwrap());
        assert_eq!(
            select(GroupSelection::default()),
            ["flask==3.0.0@9", "app==@11"]
        );
        assert_eq!(
            select(GroupSelection {
                dev: true,
                ..GroupSelection::default()
            }),
            ["flask==3.0.0@9", "app==@11", "pytest==8.0.0@14"]
        );
        assert_eq!(
            select(GroupSelection {
                groups: vec!["docs".to_owned()],
                without: vec!["packages".to_owned()],
                ..GroupSelection::default()
            }),
            ["sphinx==7.0.0@17"]
        );
        assert_eq!(
            select(GroupSelection {
                only: vec!["dev-packages".to_owned()],
                ..GroupSelection::default()
            }),
            ["pytest==8.0.0@14"]
        );
        let error = lock
            .select(
                &GroupSelection {
                    groups: vec!["lint".to_owned()],
                    ..GroupSelection::default()
                },
                &linux(),
            )
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "`Pipfile.lock`: category `lint` is not in the lock (categories: default, develop, docs)"
        );
        assert_eq!(
            error.hint().unwrap(),
            "check the category's name; if the Pipfile defines `[lint]`, re-lock with `pipenv lock`"
        );
    }

    #[test]
    fn errors_name_the_line() {
        for (text, expected) in [
            (
                "[]",
                "`Pipfile.lock` line 1: a Pipfile.lock is a JSON object, not an array",
            ),
            (
                "{\"default\": {\n\"a b\": {}}}",
                "`Pipfile.lock` line 2: `default`: `a b` is not a valid package name",
            ),
            (
                "{\"default\": {\n\"a\": {\"version\": 1}}}",
                "`Pipfile.lock` line 2: `default.a.version` is a number, not a string",
            ),
            (
                "{\"default\": {\"a\": {\n\"markers\": \"python_version >< '3'\"}}}",
                "`Pipfile.lock` line 2: `default.a.markers`: ",
            ),
            (
                "{\"default\": {\"a\": {}},\n\"develop\": 3}",
                "`Pipfile.lock` line 2: `develop`: a package category is an object, not a number",
            ),
            (
                "{\"default\": {\n",
                "`Pipfile.lock` line 2: expected a key in double quotes, found the end of the file",
            ),
        ] {
            let error = parse(text, Path::new("Pipfile.lock")).unwrap_err();
            assert!(
                error.to_string().starts_with(expected),
                "{error} / {expected}"
            );
        }
    }
}
