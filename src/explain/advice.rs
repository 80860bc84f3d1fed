//! Advice across releases: for a library outside its instrumentation's range, the newest
//! bundled release whose instrumentation supports the installed version (and what moving
//! the stack there changes in the plan), or that none does yet; and the installed
//! instrumentations older than the newest complete release (information, never a failure).
//! Both only ever name releases the target's Python can install (the plan's
//! [`Plan::python`]): "outdated" means outdated for this Python.

use serde::Serialize;

use crate::plan::{self, Plan, PlanOptions};
use crate::registry::{Kind, Registry, RegistryError, Release};
use crate::requirement::{parse_name, parse_version, PlainRequirement};
use crate::scan::Installed;

/// Which way the stack would move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Direction {
    /// A newer release than the plan's.
    Upgrade,
    /// An older release than the plan's.
    Downgrade,
}

/// The release that would support an out-of-range library.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Supported {
    pub(crate) release: String,
    /// The instrumentation's requirement on the library at that release.
    pub(crate) requirement: String,
    /// `false` when that requirement names no version range (releases before 0.49b1
    /// listed `sqlalchemy` bare): it accepts any version, which says nothing about support.
    pub(crate) declared_range: bool,
    pub(crate) direction: Direction,
    /// Recommendations the plan at that release adds (this one among them) and drops.
    pub(crate) adds: Vec<String>,
    pub(crate) drops: Vec<String>,
    /// The command that moves the stack there.
    pub(crate) command: String,
}

/// Advice for one out-of-range library.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Advice {
    /// `None`: no bundled release supports the installed version yet.
    pub(crate) supported_by: Option<Supported>,
    /// In words.
    pub(crate) message: String,
}

/// The newest release (other than the plan's) in which `instrumentation` was published
/// and supports `library` at `installed`, with the requirement there. A requirement with
/// a range is preferred; the newest one without a range comes only when no release has one.
fn supporting_release<'r>(
    registry: &'r Registry,
    python: Option<&crate::requirement::Version>,
    plan_release: &str,
    instrumentation: &str,
    library: &str,
    installed: &crate::requirement::Version,
) -> Result<Option<(&'r Release, String)>, RegistryError> {
    let Some(library) = parse_name(library) else {
        return Ok(None);
    };
    let mut unbounded = None;
    for version in registry.versions().rev() {
        let release = registry.load(version)?;
        if release.raw_version == plan_release || !release.supports_python(python) {
            continue;
        }
        let Some(entry) = release.find(instrumentation) else {
            continue;
        };
        if !entry.published {
            continue;
        }
        let supports = |requirement: &&PlainRequirement| {
            requirement.name == library && requirement.contains(installed)
        };
        if let Some(requirement) = entry
            .instruments
            .iter()
            .chain(&entry.instruments_any)
            .find(supports)
        {
            if !requirement.specifiers.is_empty() {
                return Ok(Some((release, requirement.raw.clone())));
            }
            unbounded = unbounded.or(Some((release, requirement.raw.clone())));
        }
    }
    Ok(unbounded)
}

/// An installed library that an instrumentation of the plan's release does not support.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OutOfRange<'a> {
    pub(crate) instrumentation: &'a str,
    pub(crate) library: &'a str,
    pub(crate) installed: &'a str,
}

/// The advice for `library` (installed at `installed`), which `instrumentation` of
/// `plan`'s release does not support. The plan at the supporting release is made with the
/// same options, so the adds and drops are what `--otel-version` there would print.
pub(crate) fn out_of_range(
    registry: &Registry,
    plan: &Plan,
    installed_set: &Installed,
    options: &PlanOptions,
    subject: &OutOfRange<'_>,
    rerun: &str,
) -> Advice {
    let OutOfRange {
        instrumentation,
        library,
        installed,
    } = *subject;
    let none = |message: String| Advice {
        supported_by: None,
        message,
    };
    let Some(version) = parse_version(installed) else {
        return none(format!("{library} {installed} is not a PEP 440 version"));
    };
    let found = match supporting_release(
        registry,
        plan.python.as_ref(),
        &plan.release,
        instrumentation,
        library,
        &version,
    ) {
        Ok(found) => found,
        Err(error) => return none(format!("cannot read the registry: {error}")),
    };
    let Some((release, requirement)) = found else {
        return none("no release in the registry supports it yet".to_owned());
    };
    let declared_range =
        PlainRequirement::parse(&requirement).is_ok_and(|parsed| !parsed.specifiers.is_empty());
    let plan_version = parse_version(&plan.release);
    let direction = if plan_version.is_some_and(|current| release.version > current) {
        Direction::Upgrade
    } else {
        Direction::Downgrade
    };
    let there = PlanOptions {
        release: Some(release.version.clone()),
        python: plan.python.clone(),
        ..options.clone()
    };
    let (adds, drops) = match plan::plan(registry, installed_set, &there) {
        Ok(moved) => diff(plan, &moved),
        Err(_) => (Vec::new(), Vec::new()),
    };
    let command = format!(
        "otel-bootstrap --otel-version {} -a install{rerun}",
        release.raw_version
    );
    let verb = match direction {
        Direction::Upgrade => "upgrades",
        Direction::Downgrade => "moves back",
    };
    let version = &release.raw_version;
    let mut message = if declared_range {
        format!("release {version} supports it: --otel-version {version} {verb} the stack")
    } else {
        format!("no release declares support; {version} and older declare no range (untested): --otel-version {version} {verb} the stack")
    };
    if !drops.is_empty() {
        message.push_str(&format!(" and drops {}", drops.join(", ")));
    }
    Advice {
        supported_by: Some(Supported {
            release: release.raw_version.clone(),
            requirement,
            declared_range,
            direction,
            adds,
            drops,
            command,
        }),
        message,
    }
}

/// The short names of what `after` recommends that `before` does not, and the reverse.
fn diff(before: &Plan, after: &Plan) -> (Vec<String>, Vec<String>) {
    let short = |name: &str| {
        name.strip_prefix("opentelemetry-instrumentation-")
            .unwrap_or(name)
            .to_owned()
    };
    let names = |plan: &Plan| -> Vec<String> {
        plan.recommendations
            .iter()
            .map(|recommendation| recommendation.name.clone())
            .collect()
    };
    let (old, new) = (names(before), names(after));
    let adds = new
        .iter()
        .filter(|name| !old.contains(name))
        .map(|name| short(name))
        .collect();
    let drops = old
        .iter()
        .filter(|name| !new.contains(name))
        .map(|name| short(name))
        .collect();
    (adds, drops)
}

/// An installed instrumentation older than the newest complete release's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Outdated {
    pub(crate) name: String,
    pub(crate) installed: String,
    /// Its requirement in the newest complete release.
    pub(crate) newest: String,
    pub(crate) release: String,
}

impl std::fmt::Display for Outdated {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "{} {} is older than release {} (`{}`)",
            self.name, self.installed, self.release, self.newest
        )
    }
}

/// The installed instrumentations (and `opentelemetry-instrumentation`) older than the
/// newest complete release `python` can install (any release when it is `None`):
/// information for `--check` and `explain`, never a failure. `installed` must hold the
/// instrumentation names (the plan's scan does).
pub(crate) fn outdated(
    registry: &Registry,
    installed: &Installed,
    python: Option<&crate::requirement::Version>,
) -> Result<Vec<Outdated>, RegistryError> {
    let Some(newest) = plan::newest_complete_for(registry, python)? else {
        return Ok(Vec::new());
    };
    let mut found = Vec::new();
    let core = newest.core.iter().map(|package| {
        (
            package.name.clone(),
            format!("{}=={}", package.name, package.raw_version),
        )
    });
    let instrumentations = newest
        .instrumentations
        .iter()
        .filter(|entry| entry.published || entry.kind == Kind::OptIn)
        .map(|entry| (entry.name.clone(), entry.requirement.raw.clone()));
    for (name, requirement) in core.chain(instrumentations) {
        let Some(distribution) = installed.get(&name) else {
            continue;
        };
        let Some(version) = &distribution.version else {
            continue;
        };
        let Ok(parsed) = PlainRequirement::parse(&requirement) else {
            continue;
        };
        if parsed.contains(version) {
            continue;
        }
        let range = parsed.range_text();
        let older = match range.strip_prefix("==").and_then(parse_version) {
            Some(pinned) => *version < pinned,
            // `>=2.0b0` and the like: outside the range means below it.
            None => !range.starts_with('<') && !range.starts_with("!="),
        };
        if older {
            found.push(Outdated {
                name: name.to_string(),
                installed: distribution.raw_version.clone(),
                newest: requirement,
                release: newest.raw_version.clone(),
            });
        }
    }
    Ok(found)
}

/// The `note:` for `--check` (text mode, on stderr): one line counting the outdated
/// packages, naming the newest complete release and the command that moves the stack; with
/// `verbose`, one line per package first. Empty when nothing is outdated.
pub(crate) fn outdated_notes(outdated: &[Outdated], verbose: bool, rerun: &str) -> String {
    let Some(first) = outdated.first() else {
        return String::new();
    };
    let mut text = String::new();
    if verbose {
        for entry in outdated {
            text.push_str(&format!("note: {entry}\n"));
        }
    }
    let count = outdated.len();
    text.push_str(&format!(
        "note: {count} installed package{} older than release {}, the newest complete release for this environment; not a failure: `otel-bootstrap --otel-version {} -a install{rerun}` moves the stack to it{}\n",
        if count == 1 { " is" } else { "s are" },
        first.release,
        first.release,
        if verbose { "" } else { " (`-v` lists them)" },
    ));
    text
}

/// The `note:` lines `--check` prints on stderr (text mode) after its verdict: the
/// installed instrumentations older than the newest complete release, leaving out those
/// the check already reports. Never changes the exit status.
pub(crate) fn check_notes(
    registry: &Registry,
    installed: &Installed,
    report: &crate::check::CheckReport,
    python: Option<&crate::requirement::Version>,
    verbose: bool,
    rerun: &str,
) -> String {
    let outdated: Vec<Outdated> = outdated(registry, installed, python)
        .unwrap_or_default()
        .into_iter()
        .filter(|entry| {
            !report
                .problems
                .iter()
                .any(|problem| problem.name == entry.name)
        })
        .collect();
    outdated_notes(&outdated, verbose, rerun)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::InstalledDistribution;

    fn release(version: &str, flask_published: bool) -> String {
        format!(
            r#"{{"schema": 1, "release": "{version}", "core": [{{"name": "opentelemetry-instrumentation", "version": "{version}"}}], "instrumentations": [
              {{"name": "opentelemetry-instrumentation-flask", "requirement": "opentelemetry-instrumentation-flask=={version}", "kind": "library", "published": {flask_published}, "instruments": ["flask>=1.0"]}},
              {{"name": "opentelemetry-instrumentation-vertexai", "requirement": "opentelemetry-instrumentation-vertexai>=2.0b0", "kind": "library", "instruments": ["google-cloud-aiplatform>=1.64"]}}]}}"#
        )
    }

    fn installed(distributions: &[(&str, &str)]) -> Installed {
        Installed::from_distributions(distributions.iter().map(|(name, version)| {
            InstalledDistribution {
                name: crate::requirement::PackageName::new((*name).to_owned()).unwrap(),
                raw_version: (*version).to_owned(),
                version: parse_version(version),
                path: format!("/site/{name}").into(),
            }
        }))
    }

    #[test]
    fn outdated_is_relative_to_the_newest_complete_release() {
        let old = release("1.0b0", true);
        let complete = release("1.1b0", true);
        let partial = release("1.2b0", false);
        let registry = Registry::from_texts(&[
            ("1.0b0.json", &old),
            ("1.1b0.json", &complete),
            ("1.2b0.json", &partial),
        ])
        .unwrap();
        let found = outdated(
            &registry,
            &installed(&[
                ("opentelemetry-instrumentation", "1.0b0"),
                ("opentelemetry-instrumentation-flask", "1.0b0"),
                ("opentelemetry-instrumentation-vertexai", "1.5"),
            ]),
            None,
        )
        .unwrap();
        let names: Vec<String> = found.iter().map(ToString::to_string).collect();
        assert_eq!(
            names,
            [
                "opentelemetry-instrumentation 1.0b0 is older than release 1.1b0 (`opentelemetry-instrumentation==1.1b0`)",
                "opentelemetry-instrumentation-flask 1.0b0 is older than release 1.1b0 (`opentelemetry-instrumentation-flask==1.1b0`)",
                "opentelemetry-instrumentation-vertexai 1.5 is older than release 1.1b0 (`opentelemetry-instrumentation-vertexai>=2.0b0`)",
            ]
        );
        assert_eq!(
            outdated_notes(&found, false, ""),
            "note: 3 installed packages are older than release 1.1b0, the newest complete release for this environment; not a failure: `otel-bootstrap --otel-version 1.1b0 -a install` moves the stack to it (`-v` lists them)\n"
        );
        assert!(outdated_notes(&found, true, "").starts_with(&format!("note: {}\n", names[0])));
        // Newer than the newest complete release (the partial one) is not outdated.
        let newer = outdated(
            &registry,
            &installed(&[("opentelemetry-instrumentation", "1.2b0")]),
            None,
        )
        .unwrap();
        assert!(newer.is_empty(), "{newer:?}");
        assert_eq!(outdated_notes(&[], true, ""), "");
    }

    #[test]
    fn outdated_means_outdated_for_the_target_python() {
        let old = release("1.0b0", true);
        let needs_newer = release("1.1b0", true).replacen(
            r#""release": "1.1b0","#,
            r#""release": "1.1b0", "requires_python": ">=3.10","#,
            1,
        );
        let registry =
            Registry::from_texts(&[("1.0b0.json", &old), ("1.1b0.json", &needs_newer)]).unwrap();
        let stack = installed(&[
            ("opentelemetry-instrumentation", "1.0b0"),
            ("opentelemetry-instrumentation-flask", "1.0b0"),
        ]);
        let python = |text: &str| crate::registry::python_version(text);
        // On 3.9 the stack is current: 1.1b0 is not for it.
        let on_39 = outdated(&registry, &stack, python("3.9").as_ref()).unwrap();
        assert!(on_39.is_empty(), "{on_39:?}");
        // On 3.10 (and when the Python is not known) 1.1b0 is the newest.
        let on_310 = outdated(&registry, &stack, python("3.10").as_ref()).unwrap();
        assert_eq!(on_310.len(), 2, "{on_310:?}");
        assert_eq!(on_310[0].release, "1.1b0");
    }
}
