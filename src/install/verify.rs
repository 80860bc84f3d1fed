//! The native check after (and before) installing: every planned package is installed at
//! a version its requirement allows, and the `Requires-Dist` of each is satisfied.
//!
//! This replaces upstream's `pip check` step, which searched pip's output for the words
//! "library" and "instrumentation": here each conflict names the package. Markers are
//! evaluated against the interpreter's own marker environment (asked once); when it cannot
//! be asked, requirements whose markers depend on the environment are assumed to apply.
//! Requirements only for extras (`extra == "instruments"`) never apply: nothing installs
//! the instrumentations with extras.

use std::collections::HashSet;
use std::fmt;
use std::io::Read;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use pep508_rs::{MarkerEnvironment, Requirement, VersionOrUrl};

use crate::requirement::PlainRequirement;
use crate::scan;

/// One problem found, always naming the package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conflict {
    /// A planned package is not installed.
    Missing { requirement: String },
    /// A planned package is installed at a version outside its requirement.
    WrongVersion {
        requirement: String,
        installed: String,
    },
    /// A dependency of a planned package is missing or out of range.
    Dependency {
        package: String,
        version: String,
        requirement: String,
        installed: Option<String>,
    },
    /// A planned package's metadata cannot be read.
    Unreadable { package: String, reason: String },
}

impl Conflict {
    /// The project the conflict is about (the planned package).
    pub fn package(&self) -> &str {
        match self {
            Self::Missing { requirement } | Self::WrongVersion { requirement, .. } => {
                requirement_name(requirement)
            }
            Self::Dependency { package, .. } | Self::Unreadable { package, .. } => package,
        }
    }
}

fn requirement_name(requirement: &str) -> &str {
    let end = requirement
        .find(|character: char| {
            !(character.is_ascii_alphanumeric() || matches!(character, '-' | '_' | '.'))
        })
        .unwrap_or(requirement.len());
    &requirement[..end]
}

impl fmt::Display for Conflict {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing { requirement } => {
                write!(
                    formatter,
                    "{}: `{requirement}` is not installed",
                    requirement_name(requirement)
                )
            }
            Self::WrongVersion {
                requirement,
                installed,
            } => write!(
                formatter,
                "{}: {installed} is installed, but the plan needs `{requirement}`",
                requirement_name(requirement)
            ),
            Self::Dependency {
                package,
                version,
                requirement,
                installed: None,
            } => write!(
                formatter,
                "{package} {version} requires `{requirement}`, which is not installed"
            ),
            Self::Dependency {
                package,
                version,
                requirement,
                installed: Some(installed),
            } => write!(
                formatter,
                "{package} {version} requires `{requirement}`, but {} {installed} is installed",
                requirement_name(requirement)
            ),
            Self::Unreadable { package, reason } => {
                write!(formatter, "{package}: cannot read its metadata: {reason}")
            }
        }
    }
}

/// Checks `targets` (the planned requirements) in the environment made of
/// `site_packages`. An empty result means everything is in place.
pub fn check(
    targets: &[PlainRequirement],
    site_packages: &[PathBuf],
    markers: Option<&MarkerEnvironment>,
) -> Vec<Conflict> {
    let mut wanted: HashSet<String> = targets
        .iter()
        .map(|requirement| requirement.name.to_string())
        .collect();
    let installed = scan::scan(site_packages, &wanted);

    let mut conflicts = Vec::new();
    // (package, version, its applicable requirements)
    let mut dependencies: Vec<(String, String, Vec<Requirement>)> = Vec::new();
    for target in targets {
        let Some(distribution) = installed.get(&target.name) else {
            conflicts.push(Conflict::Missing {
                requirement: target.raw.clone(),
            });
            continue;
        };
        let satisfied = distribution
            .version
            .as_ref()
            .is_some_and(|version| target.contains(version));
        if !satisfied {
            conflicts.push(Conflict::WrongVersion {
                requirement: target.raw.clone(),
                installed: distribution.raw_version.clone(),
            });
        }
        match requires_dist(&distribution.path) {
            Ok(lines) => {
                let applicable: Vec<Requirement> = lines
                    .iter()
                    .filter_map(|line| parse_requirement(line))
                    .filter(|requirement| {
                        requirement
                            .marker
                            .evaluate_optional_environment(markers, &[])
                    })
                    .collect();
                dependencies.push((
                    distribution.name.to_string(),
                    distribution.raw_version.clone(),
                    applicable,
                ));
            }
            Err(reason) => conflicts.push(Conflict::Unreadable {
                package: distribution.name.to_string(),
                reason,
            }),
        }
    }

    let before = wanted.len();
    for (_, _, requirements) in &dependencies {
        wanted.extend(
            requirements
                .iter()
                .map(|requirement| requirement.name.to_string()),
        );
    }
    let installed = if wanted.len() == before {
        installed
    } else {
        scan::scan(site_packages, &wanted)
    };
    for (package, version, requirements) in &dependencies {
        for requirement in requirements {
            let found = installed.get(&requirement.name);
            let satisfied = match (&requirement.version_or_url, found) {
                (_, None) => false,
                (Some(VersionOrUrl::VersionSpecifier(specifiers)), Some(found)) => found
                    .version
                    .as_ref()
                    .is_some_and(|version| specifiers.contains(version)),
                // A bare name or a direct URL: being installed is all that can be checked.
                (_, Some(_)) => true,
            };
            if !satisfied {
                conflicts.push(Conflict::Dependency {
                    package: package.clone(),
                    version: version.clone(),
                    requirement: requirement_text(requirement),
                    installed: found.map(|found| found.raw_version.clone()),
                });
            }
        }
    }
    conflicts
}

/// The requirement without its marker (`opentelemetry-instrumentation==0.66b1`).
fn requirement_text(requirement: &Requirement) -> String {
    let mut text = requirement.name.to_string();
    if !requirement.extras.is_empty() {
        let extras: Vec<String> = requirement.extras.iter().map(ToString::to_string).collect();
        text.push_str(&format!("[{}]", extras.join(",")));
    }
    match &requirement.version_or_url {
        Some(VersionOrUrl::VersionSpecifier(specifiers)) => text.push_str(&specifiers.to_string()),
        Some(VersionOrUrl::Url(url)) => text.push_str(&format!(" @ {url}")),
        None => {}
    }
    text
}

/// Parses one `Requires-Dist` value; `None` for what cannot be parsed (skipped, like a
/// requirement that does not apply). `pep508_rs` can panic on some malformed names (see
/// [`crate::requirement`]), hence the `catch_unwind`.
fn parse_requirement(line: &str) -> Option<Requirement> {
    let line = line.trim();
    let starts_with_name = line
        .chars()
        .next()
        .is_some_and(|character| character.is_ascii_alphanumeric());
    if !starts_with_name || crate::requirement::pep508_hazard(line).is_some() {
        return None;
    }
    catch_unwind(AssertUnwindSafe(|| line.parse::<Requirement>()))
        .ok()?
        .ok()
}

/// The `Requires-Dist` values of an installed `*.dist-info` (its `METADATA`). Other forms
/// (`.egg-info`) keep requirements elsewhere and yield none.
pub fn requires_dist(path: &Path) -> Result<Vec<String>, String> {
    let is_dist_info = path
        .extension()
        .is_some_and(|extension| extension == "dist-info");
    if !is_dist_info {
        return Ok(Vec::new());
    }
    let metadata = path.join("METADATA");
    let file = std::fs::File::open(&metadata)
        .map_err(|error| format!("`{}`: {error}", metadata.display()))?;
    read_requires_dist(file).map_err(|error| format!("`{}`: {error}", metadata.display()))
}

/// The `Requires-Dist` values in the header block of a core-metadata file. Folded lines,
/// CRLF and bytes that are not UTF-8 are tolerated.
pub fn read_requires_dist(reader: impl Read) -> std::io::Result<Vec<String>> {
    let mut values = Vec::new();
    crate::scan::metadata::read_headers(reader, |key, value| {
        if key.eq_ignore_ascii_case("requires-dist") {
            values.push(value.to_owned());
        }
        true
    })?;
    Ok(values)
}

/// Asks `interpreter` for its marker environment (once, never through a shell, with a
/// timeout); `Err` says why it could not.
pub fn marker_environment(interpreter: &Path) -> Result<MarkerEnvironment, String> {
    crate::lockfile::marker::query_interpreter(interpreter)
        .map_err(|reason| format!("`{}`: {reason}", interpreter.display()))?
        .to_environment()
        .map_err(|reason| format!("`{}`: {reason}", interpreter.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pep508_rs::MarkerEnvironmentBuilder;

    #[test]
    fn reads_every_requires_dist_of_the_header() {
        let metadata = b"Metadata-Version: 2.1\r\nName: x\r\nRequires-Dist: a==1\r\nrequires-dist: b>=2 ;\r\n  python_version < \"4\"\r\nSummary: s\r\n\r\nRequires-Dist: body\r\n";
        assert_eq!(
            read_requires_dist(&metadata[..]).unwrap(),
            ["a==1", "b>=2 ; python_version < \"4\""]
        );
    }

    fn environment() -> MarkerEnvironment {
        MarkerEnvironment::try_from(MarkerEnvironmentBuilder {
            implementation_name: "cpython",
            implementation_version: "3.11.7",
            os_name: "posix",
            platform_machine: "x86_64",
            platform_python_implementation: "CPython",
            platform_release: "6.0",
            platform_system: "Linux",
            platform_version: "#1",
            python_full_version: "3.11.7",
            python_version: "3.11",
            sys_platform: "linux",
        })
        .unwrap()
    }

    fn write_dist(site: &Path, name: &str, version: &str, requires: &[&str]) {
        let directory = site.join(format!("{}-{version}.dist-info", name.replace('-', "_")));
        std::fs::create_dir_all(&directory).unwrap();
        let mut text = format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n");
        for requirement in requires {
            text.push_str(&format!("Requires-Dist: {requirement}\n"));
        }
        std::fs::write(directory.join("METADATA"), text).unwrap();
    }

    #[test]
    fn names_each_conflict_and_ignores_extras_and_other_platforms() {
        let directory = tempfile::tempdir().unwrap();
        let site = directory.path().to_path_buf();
        write_dist(
            &site,
            "opentelemetry-instrumentation-flask",
            "0.66b1",
            &[
                "opentelemetry-instrumentation==0.66b1",
                "opentelemetry-util-http==0.66b1",
                "flask>=1.0; extra == \"instruments\"",
                "pywin32; sys_platform == \"win32\"",
                "not a requirement ((",
            ],
        );
        write_dist(&site, "opentelemetry-instrumentation", "0.65b0", &[]);
        write_dist(&site, "opentelemetry-instrumentation-wsgi", "0.65b0", &[]);
        let targets: Vec<PlainRequirement> = [
            "opentelemetry-instrumentation-flask==0.66b1",
            "opentelemetry-instrumentation-wsgi==0.66b1",
            "opentelemetry-instrumentation-redis==0.66b1",
        ]
        .iter()
        .map(|text| PlainRequirement::parse(text).unwrap())
        .collect();
        let environment = environment();
        let conflicts = check(&targets, &[site], Some(&environment));
        let text: Vec<String> = conflicts.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "opentelemetry-instrumentation-wsgi: 0.65b0 is installed, but the plan needs `opentelemetry-instrumentation-wsgi==0.66b1`",
                "opentelemetry-instrumentation-redis: `opentelemetry-instrumentation-redis==0.66b1` is not installed",
                "opentelemetry-instrumentation-flask 0.66b1 requires `opentelemetry-instrumentation==0.66b1`, but opentelemetry-instrumentation 0.65b0 is installed",
                "opentelemetry-instrumentation-flask 0.66b1 requires `opentelemetry-util-http==0.66b1`, which is not installed",
            ]
        );
        assert_eq!(conflicts[0].package(), "opentelemetry-instrumentation-wsgi");
    }

    #[test]
    fn a_satisfied_environment_has_no_conflict() {
        let directory = tempfile::tempdir().unwrap();
        let site = directory.path().to_path_buf();
        write_dist(&site, "a", "1.0", &["b>=2", "c; python_version < \"3\""]);
        write_dist(&site, "b", "2.1", &[]);
        let targets = [PlainRequirement::parse("a").unwrap()];
        assert_eq!(
            check(&targets, std::slice::from_ref(&site), Some(&environment())),
            []
        );
        // Without a marker environment, `c` is assumed to apply.
        assert_eq!(check(&targets, &[site], None).len(), 1);
    }
}
