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
use std::path::{Path, PathBuf};

use crate::requirement::MarkerEnvironment;

use crate::graph::{Conflict as GraphConflict, Graph};
use crate::requirement::PlainRequirement;

/// One problem found, always naming the package (normalized) apart from the requirement
/// text, so nothing has to be parsed back out of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Conflict {
    /// A planned package is not installed.
    Missing {
        package: String,
        requirement: String,
    },
    /// A planned package is installed at a version outside its requirement.
    WrongVersion {
        package: String,
        requirement: String,
        installed: String,
    },
    /// A planned package's metadata cannot be read.
    Unreadable { package: String, reason: String },
}

impl Conflict {
    /// The project the conflict is about (the planned package).
    pub(crate) fn package(&self) -> &str {
        match self {
            Self::Missing { package, .. }
            | Self::WrongVersion { package, .. }
            | Self::Unreadable { package, .. } => package,
        }
    }
}

impl fmt::Display for Conflict {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing {
                package,
                requirement,
            } => {
                write!(formatter, "{package}: `{requirement}` is not installed")
            }
            Self::WrongVersion {
                package,
                requirement,
                installed,
            } => write!(
                formatter,
                "{package}: {installed} is installed, but the plan needs `{requirement}`"
            ),
            Self::Unreadable { package, reason } => {
                write!(formatter, "{package}: cannot read its metadata: {reason}")
            }
        }
    }
}

/// Checks that each of `targets` (the planned requirements) is installed in `graph` at a
/// version it allows. The requirements of everything installed are the graph's to check
/// ([`crate::graph::Graph::conflicts`]).
pub(crate) fn unmet(targets: &[PlainRequirement], graph: &Graph) -> Vec<Conflict> {
    let mut conflicts = Vec::new();
    for target in targets {
        let Some(node) = graph.get(&target.name) else {
            conflicts.push(Conflict::Missing {
                package: target.name.to_string(),
                requirement: target.raw.clone(),
            });
            continue;
        };
        let satisfied = node
            .version
            .as_ref()
            .is_some_and(|version| target.contains(version));
        if !satisfied {
            conflicts.push(Conflict::WrongVersion {
                package: target.name.to_string(),
                requirement: target.raw.clone(),
                installed: node.raw_version.clone(),
            });
        }
        if let Some(reason) = &node.unreadable {
            conflicts.push(Conflict::Unreadable {
                package: node.name.to_string(),
                reason: reason.clone(),
            });
        }
    }
    conflicts
}

/// The requirement-level conflicts of `after` that `before` did not have (compared by
/// package, requirement and project required, not by versions).
pub(crate) fn newly_broken(
    before: &[GraphConflict],
    after: &[GraphConflict],
) -> Vec<GraphConflict> {
    let key = |conflict: &GraphConflict| {
        (
            conflict.package.clone(),
            conflict.requirement.clone(),
            conflict.required.clone(),
        )
    };
    let known: HashSet<_> = before.iter().map(key).collect();
    after
        .iter()
        .filter(|conflict| !known.contains(&key(conflict)))
        .cloned()
        .collect()
}

/// The dependency graph of every distribution in `site_packages`, listed afresh (after
/// an install).
pub(crate) fn graph(site_packages: &[PathBuf], markers: Option<&MarkerEnvironment>) -> Graph {
    graph_of(&crate::scan::list(site_packages), markers)
}

/// The dependency graph of every distribution of a listing already made (the plan's).
pub(crate) fn graph_of(
    listing: &crate::scan::Listing,
    markers: Option<&MarkerEnvironment>,
) -> Graph {
    Graph::build(crate::graph::inputs(&listing.read_all()), markers)
}

/// [`graph_of`] for a discovered environment, its markers asked of its interpreter (when
/// it has one; otherwise markers that depend on it count as true).
pub(crate) fn environment_graph(
    environment: &crate::environment::Environment,
    listing: &crate::scan::Listing,
) -> Graph {
    let markers = environment
        .interpreter
        .as_deref()
        .and_then(|interpreter| marker_environment(interpreter).ok());
    graph_of(listing, markers.as_ref())
}

/// Asks `interpreter` for its marker environment (once, never through a shell, with a
/// timeout); `Err` says why it could not.
pub(crate) fn marker_environment(interpreter: &Path) -> Result<MarkerEnvironment, String> {
    crate::lockfile::marker::query_interpreter(interpreter)
        .map_err(|reason| format!("`{}`: {reason}", interpreter.display()))?
        .to_environment()
        .map_err(|reason| format!("`{}`: {reason}", interpreter.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::NodeInput;

    fn node(name: &str, version: &str, requires: &[&str]) -> NodeInput {
        NodeInput::example(name, version, requires).unwrap()
    }

    #[test]
    fn names_each_missing_or_wrong_target() {
        let graph = Graph::build(
            vec![
                node(
                    "opentelemetry-instrumentation-flask",
                    "0.66b1",
                    &["opentelemetry-instrumentation==0.66b1"],
                ),
                node("opentelemetry-instrumentation", "0.65b0", &[]),
                node("opentelemetry-instrumentation-wsgi", "0.65b0", &[]),
            ],
            None,
        );
        let targets: Vec<PlainRequirement> = [
            "opentelemetry-instrumentation-flask==0.66b1",
            "opentelemetry-instrumentation-wsgi==0.66b1",
            "opentelemetry-instrumentation-redis==0.66b1",
        ]
        .iter()
        .map(|text| PlainRequirement::parse(text).unwrap())
        .collect();
        let text: Vec<String> = unmet(&targets, &graph)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            text,
            [
                "opentelemetry-instrumentation-wsgi: 0.65b0 is installed, but the plan needs `opentelemetry-instrumentation-wsgi==0.66b1`",
                "opentelemetry-instrumentation-redis: `opentelemetry-instrumentation-redis==0.66b1` is not installed",
            ]
        );
        // The dependency conflict is the graph's.
        assert_eq!(
            graph.conflicts()[0].to_string(),
            "opentelemetry-instrumentation-flask 0.66b1 requires `opentelemetry-instrumentation==0.66b1`, but opentelemetry-instrumentation 0.65b0 is installed"
        );
    }

    #[test]
    fn only_new_conflicts_are_blamed_on_the_install() {
        let before = Graph::build(vec![node("a", "1", &["b>=2"]), node("b", "1", &[])], None);
        let after = Graph::build(
            vec![
                node("a", "1", &["b>=2"]),
                node("b", "1.5", &[]),
                node("c", "1", &["d"]),
            ],
            None,
        );
        let new = newly_broken(&before.conflicts(), &after.conflicts());
        assert_eq!(
            new.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["c 1 requires `d`, which is not installed"]
        );
    }
}
