//! `uv.lock`: the packages `uv sync` would install.
//!
//! The lock holds every package of every platform; what gets installed is found by
//! walking the dependency graph from the project: the package whose `source` is the lock's
//! own directory (`{ editable = "." }`, `{ virtual = "." }`), or, in a workspace whose
//! root is not a project, every member listed in `[manifest]`. Its `dependencies` are
//! walked, plus its `dev-dependencies` of the selected groups (the default groups are
//! `dev` unless `[tool.uv] default-groups` in the `pyproject.toml` beside the lock says
//! otherwise), plus the `optional-dependencies` of every extra a dependency asks for.
//! Each edge's `marker` is evaluated against the target. The project's own extras are not
//! installed (as `uv sync` without `--extra`).

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};

use crate::requirement::{ExtraName, MarkerTree, PackageName};
use serde::Deserialize;
use toml::Spanned;

use super::marker::{parse_marker, MarkerTarget};
use super::{package_name, LineIndex, Location, LockedPackage, LockfileError};

/// A parsed `uv.lock`.
#[derive(Debug, Clone)]
pub(crate) struct UvLock {
    path: PathBuf,
    supported: super::Supported,
    packages: Vec<Package>,
    members: Vec<PackageName>,
    /// `[manifest.dependency-groups]`: the groups of a workspace root without `[project]`.
    root_groups: BTreeMap<String, Vec<Dependency>>,
    /// Name → the indexes of its packages (one per forked version), in lock order.
    by_name: HashMap<PackageName, Vec<usize>>,
}

#[derive(Debug, Clone)]
struct Package {
    name: PackageName,
    version: Option<String>,
    line: usize,
    /// `source = { virtual = "." }` and friends: the lock's own project.
    is_project_root: bool,
    /// `source = { virtual = … }`: not installed itself.
    is_virtual: bool,
    dependencies: Vec<Dependency>,
    optional_dependencies: BTreeMap<String, Vec<Dependency>>,
    dev_dependencies: BTreeMap<String, Vec<Dependency>>,
}

#[derive(Debug, Clone)]
struct Dependency {
    name: PackageName,
    version: Option<String>,
    /// A workspace root group's specifier, which picks among forked versions.
    specifier: Option<crate::requirement::VersionSpecifiers>,
    marker: MarkerTree,
    extras: Vec<String>,
}

/// The top level, without the packages.
#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawLock {
    version: Option<Spanned<toml::Value>>,
    requires_python: Option<String>,
    #[serde(default)]
    supported_markers: Vec<Spanned<String>>,
    #[serde(default)]
    manifest: RawManifest,
}

#[derive(Deserialize)]
struct RawPackages {
    #[serde(default)]
    package: Vec<RawPackage>,
}

fn raw_packages(text: &str) -> Result<Vec<RawPackage>, toml::de::Error> {
    toml::from_str::<RawPackages>(text).map(|raw| raw.package)
}

#[derive(Deserialize, Default)]
struct RawManifest {
    #[serde(default)]
    members: Vec<Spanned<String>>,
    /// The groups of a workspace root that is not a project.
    #[serde(default, rename = "dependency-groups")]
    dependency_groups: BTreeMap<String, Vec<RawDependency>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawPackage {
    name: Spanned<String>,
    version: Option<String>,
    source: Option<BTreeMap<String, toml::Value>>,
    #[serde(default)]
    dependencies: Vec<RawDependency>,
    #[serde(default)]
    optional_dependencies: BTreeMap<String, Vec<RawDependency>>,
    #[serde(default)]
    dev_dependencies: BTreeMap<String, Vec<RawDependency>>,
}

#[derive(Deserialize)]
struct RawDependency {
    name: Spanned<String>,
    version: Option<String>,
    /// In `[manifest.dependency-groups]`: the requirement's specifier.
    specifier: Option<String>,
    marker: Option<Spanned<String>>,
    #[serde(default)]
    extra: Vec<String>,
}

/// Parses a `uv.lock`. Pure; errors name the line.
pub(crate) fn parse(text: &str, origin: &Path) -> Result<UvLock, LockfileError> {
    let lines = LineIndex::new(text);
    let (raw, raw_package): (RawLock, _) =
        super::tables::parse(text, origin, &lines, "package", raw_packages)?;
    match raw
        .version
        .as_ref()
        .map(|version| (version.get_ref(), version.span()))
    {
        Some((toml::Value::Integer(1), _)) => {}
        Some((_, span)) => {
            return Err(LockfileError::malformed(
                origin,
                lines.line(span.start),
                "`version`: only uv.lock version 1 is supported",
            ))
        }
        None => {
            return Err(LockfileError::malformed(
                origin,
                1,
                "no top-level `version`: not a uv.lock",
            ))
        }
    }
    let name = |base: usize, spanned: &Spanned<String>| {
        package_name(origin, &lines, base, "name", spanned)
    };
    // The same few markers recur on thousands of edges: each is parsed once.
    let mut markers: HashMap<String, MarkerTree> = HashMap::new();
    let mut dependencies =
        |base: usize, raw: Vec<RawDependency>| -> Result<Vec<Dependency>, LockfileError> {
            raw.into_iter()
                .map(|dependency| {
                    let marker = match &dependency.marker {
                        Some(marker) => match markers.get(marker.get_ref()) {
                            Some(parsed) => parsed.clone(),
                            None => {
                                let parsed = parse_marker(marker.get_ref()).map_err(|message| {
                                    LockfileError::malformed(
                                        origin,
                                        lines.line(base + marker.span().start),
                                        format!("`marker`: {message}"),
                                    )
                                })?;
                                markers.insert(marker.get_ref().clone(), parsed.clone());
                                parsed
                            }
                        },
                        None => MarkerTree::TRUE,
                    };
                    Ok(Dependency {
                        name: name(base, &dependency.name)?,
                        version: dependency.version,
                        specifier: dependency
                            .specifier
                            .as_deref()
                            .and_then(|specifier| specifier.parse().ok()),
                        marker,
                        extras: dependency
                            .extra
                            .iter()
                            .map(|extra| crate::requirement::normalize(extra))
                            .collect(),
                    })
                })
                .collect()
        };
    let mut packages = Vec::with_capacity(raw_package.len());
    for (base, package) in raw_package {
        let source = package.source.unwrap_or_default();
        let at_root = |key: &str| {
            source
                .get(key)
                .and_then(toml::Value::as_str)
                .is_some_and(|path| path == "." || path.is_empty())
        };
        let mut optional_dependencies = BTreeMap::new();
        for (extra, list) in package.optional_dependencies {
            optional_dependencies.insert(
                crate::requirement::normalize(&extra),
                dependencies(base, list)?,
            );
        }
        let mut dev_dependencies = BTreeMap::new();
        for (group, list) in package.dev_dependencies {
            dev_dependencies.insert(
                crate::requirement::normalize(&group),
                dependencies(base, list)?,
            );
        }
        packages.push(Package {
            name: name(base, &package.name)?,
            version: package.version,
            line: lines.line(base + package.name.span().start),
            is_project_root: at_root("virtual") || at_root("editable") || at_root("directory"),
            is_virtual: source.contains_key("virtual"),
            dependencies: dependencies(base, package.dependencies)?,
            optional_dependencies,
            dev_dependencies,
        });
    }
    let mut root_groups = BTreeMap::new();
    for (group, list) in raw.manifest.dependency_groups {
        root_groups.insert(
            crate::requirement::normalize(&group),
            dependencies(0, list)?,
        );
    }
    let members = raw
        .manifest
        .members
        .iter()
        .map(|member| name(0, member))
        .collect::<Result<Vec<_>, _>>()?;
    let supported = super::Supported {
        requires_python: raw.requires_python,
        environments: super::parse_environments(
            origin,
            &lines,
            "supported-markers",
            &raw.supported_markers,
        )?,
    };
    let mut by_name: HashMap<PackageName, Vec<usize>> = HashMap::new();
    for (index, package) in packages.iter().enumerate() {
        by_name.entry(package.name.clone()).or_default().push(index);
    }
    Ok(UvLock {
        path: origin.to_owned(),
        supported,
        packages,
        members,
        root_groups,
        by_name,
    })
}

impl UvLock {
    /// The Python versions and environments the lock was made for.
    pub(crate) fn supported(&self) -> &super::Supported {
        &self.supported
    }

    /// The packages installed for the selected (normalized) `groups` on `target`, in lock
    /// order.
    pub(crate) fn select(
        &self,
        groups: &[String],
        target: &MarkerTarget,
    ) -> Result<Vec<LockedPackage>, LockfileError> {
        let selection = UvSelection {
            groups,
            ..UvSelection::default()
        };
        self.select_with(&selection, target)
    }

    /// The packages `uv sync` installs with `selection` on `target`, in lock order.
    pub(crate) fn select_with(
        &self,
        selection: &UvSelection<'_>,
        target: &MarkerTarget,
    ) -> Result<Vec<LockedPackage>, LockfileError> {
        let UvSelection {
            groups,
            extras,
            all_extras,
            package,
            all_packages,
        } = *selection;
        let members: HashSet<&PackageName> = self.members.iter().collect();
        let mut roots: Vec<usize> = self
            .packages
            .iter()
            .enumerate()
            .filter(|(_, package)| package.is_project_root)
            .map(|(index, _)| index)
            .collect();
        // The workspace root's own groups count unless one member is chosen.
        let mut root_groups = package.is_none();
        if let Some(wanted) = package {
            let wanted = crate::requirement::normalize(wanted);
            roots = self
                .packages
                .iter()
                .enumerate()
                .filter(|(index, package)| {
                    package.name.as_ref() == wanted
                        && (members.contains(&package.name) || roots.contains(index))
                })
                .map(|(index, _)| index)
                .collect();
            if roots.is_empty() {
                let mut names: Vec<String> = self.members.iter().map(ToString::to_string).collect();
                names.sort();
                return Err(LockfileError::unusable(
                    &self.path,
                    format!(
                        "`--package {wanted}`: no such workspace member (members: {})",
                        names.join(", ")
                    ),
                ));
            }
            root_groups = false;
        } else if all_packages {
            for (index, package) in self.packages.iter().enumerate() {
                if members.contains(&package.name) && !roots.contains(&index) {
                    roots.push(index);
                }
            }
        }
        if roots.is_empty() {
            roots = self
                .packages
                .iter()
                .enumerate()
                .filter(|(_, package)| members.contains(&package.name))
                .map(|(index, _)| index)
                .collect();
        }
        if roots.is_empty() {
            return Err(LockfileError::unusable(
                &self.path,
                "no project in the lock (no package with `source = { editable = \".\" }` or `{ virtual = \".\" }`, no `[manifest] members`)",
            ));
        }
        for group in groups {
            let defined = roots
                .iter()
                .any(|root| self.packages[*root].dev_dependencies.contains_key(group))
                || (root_groups && self.root_groups.contains_key(group));
            if !defined && group != "dev" {
                return Err(LockfileError::unusable(
                    &self.path,
                    format!("group `{group}` is not defined by the project"),
                ));
            }
        }

        for extra in extras {
            let defined = roots.iter().any(|root| {
                self.packages[*root]
                    .optional_dependencies
                    .contains_key(extra)
            });
            if !defined {
                return Err(LockfileError::unusable(
                    &self.path,
                    format!("extra `{extra}` is not defined by the project"),
                ));
            }
        }

        let mut installed = vec![false; self.packages.len()];
        let mut expanded: HashSet<(usize, Option<String>)> = HashSet::new();
        let mut queue: VecDeque<(usize, Option<String>)> = VecDeque::new();
        for root in &roots {
            queue.push_back((*root, None));
            for extra in self.packages[*root].optional_dependencies.keys() {
                if all_extras || extras.contains(extra) {
                    queue.push_back((*root, Some(extra.clone())));
                }
            }
            for group in groups {
                for dependency in self.packages[*root]
                    .dev_dependencies
                    .get(group)
                    .into_iter()
                    .flatten()
                {
                    self.follow(dependency, target, &mut queue);
                }
            }
        }
        if root_groups {
            for group in groups {
                for dependency in self.root_groups.get(group).into_iter().flatten() {
                    self.follow(dependency, target, &mut queue);
                }
            }
        }
        while let Some((index, extra)) = queue.pop_front() {
            if !expanded.insert((index, extra.clone())) {
                continue;
            }
            installed[index] = true;
            let package = &self.packages[index];
            let edges = match &extra {
                None => Some(&package.dependencies),
                Some(extra) => package.optional_dependencies.get(extra),
            };
            for dependency in edges.into_iter().flatten() {
                self.follow(dependency, target, &mut queue);
            }
        }
        Ok(self
            .packages
            .iter()
            .zip(installed)
            .filter(|(package, installed)| *installed && !package.is_virtual)
            .map(|(package, _)| {
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

    fn follow(
        &self,
        dependency: &Dependency,
        target: &MarkerTarget,
        queue: &mut VecDeque<(usize, Option<String>)>,
    ) {
        if !target.evaluate(&dependency.marker, &[] as &[ExtraName]) {
            return;
        }
        let Some(index) = self
            .by_name
            .get(&dependency.name)
            .into_iter()
            .flatten()
            .copied()
            .find(|index| {
                let candidate = &self.packages[*index];
                dependency
                    .version
                    .as_ref()
                    .is_none_or(|version| candidate.version.as_ref() == Some(version))
                    && dependency.specifier.as_ref().is_none_or(|specifier| {
                        candidate
                            .version
                            .as_deref()
                            .and_then(crate::requirement::parse_version)
                            .is_none_or(|version| specifier.contains(&version))
                    })
            })
        else {
            return;
        };
        queue.push_back((index, None));
        for extra in &dependency.extras {
            queue.push_back((index, Some(extra.clone())));
        }
    }
}

/// What `uv sync` is asked to install from a uv.lock.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct UvSelection<'a> {
    /// The selected groups (normalized).
    pub(crate) groups: &'a [String],
    /// `--extra` (normalized).
    pub(crate) extras: &'a [String],
    /// `--all-extras`.
    pub(crate) all_extras: bool,
    /// `--package NAME`: one workspace member instead of the project.
    pub(crate) package: Option<&'a str>,
    /// `--all-packages`: every workspace member.
    pub(crate) all_packages: bool,
}

/// `[tool.uv] default-groups` of the `pyproject.toml` beside `lock_path` (`"all"` is
/// every group the project defines, which the caller cannot know here: it is read as
/// `dev`), else `["dev"]`.
pub(crate) fn default_groups(lock_path: &Path) -> Vec<String> {
    let pyproject = lock_path
        .parent()
        .unwrap_or_else(|| Path::new(""))
        .join("pyproject.toml");
    let fallback = vec!["dev".to_owned()];
    // A missing, special or oversized pyproject.toml leaves uv's default.
    match crate::untrusted::read_text(&pyproject, crate::untrusted::FileKind::Pyproject) {
        Ok(text) => default_groups_of(&text),
        Err(_) => fallback,
    }
}

/// `[tool.uv] default-groups` of a `pyproject.toml`'s text, else `["dev"]`.
pub(crate) fn default_groups_of(text: &str) -> Vec<String> {
    let fallback = vec!["dev".to_owned()];
    let Ok(table) = text.parse::<toml::Table>() else {
        return fallback;
    };
    let configured = table
        .get("tool")
        .and_then(|tool| tool.get("uv"))
        .and_then(|uv| uv.get("default-groups"));
    match configured {
        Some(toml::Value::Array(groups)) => groups
            .iter()
            .filter_map(toml::Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(toml::Value::String(all)) if all == "all" => table
            .get("dependency-groups")
            .and_then(toml::Value::as_table)
            .map(|groups| groups.keys().cloned().collect())
            .unwrap_or(fallback),
        _ => fallback,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lockfile::marker::{MarkerValues, Platform, TargetSource};

    const LOCK: &str = r#"version = 1
revision = 2
requires-python = ">=3.9"

[[package]]
name = "app"
version = "0.1.0"
source = { virtual = "." }
dependencies = [
    { name = "flask" },
    { name = "pywin32", marker = "sys_platform == 'win32'" },
    { name = "sqlalchemy", extra = ["asyncio"] },
]

[package.optional-dependencies]
cli = [{ name = "click" }]

[package.dev-dependencies]
dev = [{ name = "pytest" }]
lint = [{ name = "ruff" }]

[[package]]
name = "flask"
version = "3.0.0"
source = { registry = "https://pypi.org/simple" }
dependencies = [{ name = "blinker" }]

[[package]]
name = "blinker"
version = "1.7.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "pywin32"
version = "306"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "sqlalchemy"
version = "2.0.30"
source = { registry = "https://pypi.org/simple" }

[package.optional-dependencies]
asyncio = [{ name = "greenlet" }]

[[package]]
name = "greenlet"
version = "3.0.3"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "click"
version = "8.1.7"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "pytest"
version = "8.0.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "ruff"
version = "0.4.0"
source = { registry = "https://pypi.org/simple" }
"#;

    fn names(packages: &[LockedPackage]) -> Vec<String> {
        packages
            .iter()
            .map(|package| format!("{}=={}", package.name, package.raw_version))
            .collect()
    }

    fn linux() -> MarkerTarget {
        let values = MarkerValues::synthetic("3.12", Platform::Linux).unwrap();
        MarkerTarget::from_values(values, TargetSource::Flags).unwrap()
    }

    #[test]
    fn walks_the_graph_like_uv_sync() {
        let lock = parse(LOCK, Path::new("uv.lock")).unwrap();
        let selected = lock.select(&["dev".to_owned()], &linux()).unwrap();
        assert_eq!(
            names(&selected),
            [
                "flask==3.0.0",
                "blinker==1.7.0",
                "sqlalchemy==2.0.30",
                "greenlet==3.0.3",
                "pytest==8.0.0"
            ]
        );
        assert_eq!(selected[0].location.to_string(), "uv.lock:23");
        let no_dev = lock.select(&[], &linux()).unwrap();
        assert!(!names(&no_dev).iter().any(|name| name.starts_with("pytest")));
        let lint = lock.select(&["lint".to_owned()], &linux()).unwrap();
        assert!(names(&lint).contains(&"ruff==0.4.0".to_owned()));
        let everything = lock.select(&[], &MarkerTarget::everything()).unwrap();
        assert!(names(&everything).contains(&"pywin32==306".to_owned()));
        assert!(lock.select(&["docs".to_owned()], &linux()).is_err());
    }

    #[test]
    fn extras_of_the_project_follow_uv_sync() {
        let lock = parse(LOCK, Path::new("uv.lock")).unwrap();
        let has_click =
            |selected: Vec<LockedPackage>| names(&selected).contains(&"click==8.1.7".to_owned());
        assert!(!has_click(lock.select(&[], &linux()).unwrap()));
        assert!(has_click(
            lock.select_with(
                &UvSelection {
                    extras: &["cli".to_owned()],
                    ..UvSelection::default()
                },
                &linux()
            )
            .unwrap()
        ));
        assert!(has_click(
            lock.select_with(
                &UvSelection {
                    all_extras: true,
                    ..UvSelection::default()
                },
                &linux()
            )
            .unwrap()
        ));
        let error = lock
            .select_with(
                &UvSelection {
                    extras: &["nope".to_owned()],
                    ..UvSelection::default()
                },
                &linux(),
            )
            .unwrap_err();
        assert!(error.to_string().contains("extra `nope` is not defined"));
    }

    #[test]
    fn picks_the_forked_version_the_edge_names() {
        let text = r#"version = 1
[[package]]
name = "app"
version = "0.1.0"
source = { editable = "." }
dependencies = [
    { name = "numpy", version = "1.24.4", source = { registry = "x" }, marker = "python_full_version < '3.9'" },
    { name = "numpy", version = "2.0.0", source = { registry = "x" }, marker = "python_full_version >= '3.9'" },
]
[[package]]
name = "numpy"
version = "1.24.4"
[[package]]
name = "numpy"
version = "2.0.0"
"#;
        let lock = parse(text, Path::new("uv.lock")).unwrap();
        assert_eq!(
            names(&lock.select(&[], &linux()).unwrap()),
            ["app==0.1.0", "numpy==2.0.0"]
        );
    }

    #[test]
    fn malformed_locks_name_the_line() {
        for (text, line) in [
            ("version = 1\n[[package]]\nversion = \"1\"\n", 2),
            ("version = 1\n[[package]]\nname = \"foo.\"\n", 3),
            ("version = 2\n", 1),
            ("version = 1\n[[package]]\nname = \"a\"\ndependencies = [{ name = \"b\", marker = \"os_name ==\" }]\n", 4),
            ("version = 1\n[[package]\n", 2),
            ("[[package]]\nname = \"a\"\n", 1),
        ] {
            match parse(text, Path::new("uv.lock")) {
                Err(LockfileError::Malformed { line: found, .. }) => {
                    assert_eq!(found, line, "{text}")
                }
                other => panic!("{text}: {other:?}"),
            }
        }
    }
}
