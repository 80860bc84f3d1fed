//! Relevance: for each recommendation, whether its library is a need of the application,
//! from the environment's dependency graph, and whether another recommendation covers it,
//! from the covers table (`data/covers.json`).
//!
//! A library is a *direct* need when nothing installed requires it (a top-level
//! requirement) or when the application requires it (a distribution installed from a path
//! or URL: the project itself). It is a *dependency* when other distributions require it.
//! It serves *only the telemetry stack* when every distribution that requires it is an
//! OpenTelemetry package (or itself serves only the telemetry stack: urllib3 under a
//! requests that only the OTLP exporter requires). Pure: the graph is read elsewhere.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::requirement::PackageName;
use serde::{Deserialize, Serialize};

use crate::graph::Graph;
use crate::plan::{Plan, Reason, Recommendation};
use crate::requirement::{normalize, parse_name};

/// The covers table, embedded from `data/covers.json`.
const BUNDLED_COVERS: &str = include_str!("../../data/covers.json");

/// The schema version of `data/covers.json` this build reads.
pub(crate) const COVERS_SCHEMA: u64 = 1;

/// One entry of the covers table: `instrumentation` adds nothing when one of `covered_by`
/// is recommended too, for `reason`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Cover {
    pub(crate) instrumentation: String,
    pub(crate) covered_by: Vec<String>,
    pub(crate) reason: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CoversFile {
    schema: u64,
    covers: Vec<Cover>,
}

/// The covers table.
#[derive(Debug, Clone, Default)]
pub(crate) struct Covers {
    entries: Vec<Cover>,
}

impl Covers {
    /// The bundled table (`data/covers.json`; a unit test keeps it valid).
    pub(crate) fn bundled() -> Self {
        Self::parse(BUNDLED_COVERS).unwrap_or_default()
    }

    /// Parses and validates a covers document: names are normalized project names, no
    /// entry covers itself, and no two entries cover each other (directly or in a loop).
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let file: CoversFile = serde_json::from_str(text).map_err(|error| error.to_string())?;
        if file.schema != COVERS_SCHEMA {
            return Err(format!(
                "`schema` is {}, this build reads {COVERS_SCHEMA}",
                file.schema
            ));
        }
        let mut seen = HashSet::new();
        for (index, entry) in file.covers.iter().enumerate() {
            for name in std::iter::once(&entry.instrumentation).chain(&entry.covered_by) {
                if normalize(name) != *name || parse_name(name).is_none() {
                    return Err(format!(
                        "`covers[{index}]`: `{name}` is not a normalized project name"
                    ));
                }
            }
            if !seen.insert(entry.instrumentation.clone()) {
                return Err(format!(
                    "`covers[{index}]`: `{}` is listed twice",
                    entry.instrumentation
                ));
            }
            if entry.covered_by.is_empty() || entry.reason.trim().is_empty() {
                return Err(format!(
                    "`covers[{index}]` (`{}`): needs `covered_by` and a `reason`",
                    entry.instrumentation
                ));
            }
        }
        let covers = Self {
            entries: file.covers,
        };
        for entry in &covers.entries {
            if let Some(path) = covers.loop_from(&entry.instrumentation) {
                return Err(format!(
                    "the entries cover each other: {}",
                    path.join(" -> ")
                ));
            }
        }
        Ok(covers)
    }

    #[cfg(test)]
    pub(crate) fn entries(&self) -> &[Cover] {
        &self.entries
    }

    fn get(&self, instrumentation: &str) -> Option<&Cover> {
        self.entries
            .iter()
            .find(|entry| entry.instrumentation == instrumentation)
    }

    /// A path `start -> … -> start` through "is covered by", if there is one.
    fn loop_from(&self, start: &str) -> Option<Vec<String>> {
        let mut stack = vec![(start.to_owned(), vec![start.to_owned()])];
        let mut visited = HashSet::new();
        while let Some((name, path)) = stack.pop() {
            let Some(entry) = self.get(&name) else {
                continue;
            };
            for next in &entry.covered_by {
                if next == start {
                    let mut found = path.clone();
                    found.push(next.clone());
                    return Some(found);
                }
                if visited.insert(next.clone()) {
                    let mut longer = path.clone();
                    longer.push(next.clone());
                    stack.push((next.clone(), longer));
                }
            }
        }
        None
    }
}

/// Why a library (or a recommendation) is there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Need {
    /// Only OpenTelemetry packages require it (directly or through packages that serve
    /// only them).
    TelemetryStack,
    /// Other installed distributions require it.
    Dependency,
    /// Nothing installed requires it: a top-level requirement of the environment.
    TopLevel,
    /// The application (a distribution installed from a path or URL) requires it.
    Application,
    /// A default instrumentation (the standard library): always recommended.
    Default,
    /// Asked for with `--include`.
    Included,
}

impl Need {}

/// One library of a recommendation, and who requires it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct LibraryNeed {
    pub(crate) name: String,
    pub(crate) need: Need,
    /// The installed distributions that require it, in name order.
    pub(crate) required_by: Vec<String>,
    /// For `telemetry-stack`: the OpenTelemetry packages it serves in the end.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) telemetry: Vec<String>,
}

/// The recommendation that covers another one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct CoveredBy {
    pub(crate) instrumentation: String,
    pub(crate) reason: String,
}

/// What the graph and the covers table say about one recommendation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Relevance {
    /// `false` when another recommendation covers it or its libraries serve only the
    /// telemetry stack: what `--only-needed` leaves out.
    pub(crate) needed: bool,
    /// The strongest need among its libraries (`default` / `included` without libraries).
    pub(crate) need: Need,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) libraries: Vec<LibraryNeed>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) covered_by: Option<CoveredBy>,
}

/// Whether `node` is part of the telemetry stack: an OpenTelemetry package
/// (`opentelemetry-*`) or a vendor's OpenTelemetry distribution (`*-opentelemetry`,
/// `*-opentelemetry-*`: `azure-monitor-opentelemetry`, `elastic-opentelemetry`,
/// `splunk-opentelemetry`). The application (installed from a path) never is.
fn is_telemetry(node: &crate::graph::Node) -> bool {
    let name = node.name.as_ref();
    !node.direct_reference
        && (name.starts_with("opentelemetry-") || name.contains("-opentelemetry"))
}

/// Computes, with memory, which distributions serve only the telemetry stack.
struct TelemetryWalk<'a> {
    graph: &'a Graph,
    memo: HashMap<PackageName, Option<BTreeSet<String>>>,
    visiting: HashSet<PackageName>,
}

impl<'a> TelemetryWalk<'a> {
    fn new(graph: &'a Graph) -> Self {
        Self {
            graph,
            memo: HashMap::new(),
            visiting: HashSet::new(),
        }
    }

    /// `Some(the OpenTelemetry packages it serves)` when every requirer of `name` is part
    /// of the telemetry stack or serves only it; `None` otherwise (nothing requires it, the
    /// application or another package does, or a cycle leaves it undecided).
    fn serves_only_telemetry(&mut self, name: &PackageName) -> Option<BTreeSet<String>> {
        if let Some(known) = self.memo.get(name) {
            return known.clone();
        }
        if !self.visiting.insert(name.clone()) {
            return None;
        }
        let requirers: Vec<(PackageName, bool, bool)> = self
            .graph
            .requirers(name)
            .into_iter()
            .map(|(node, _)| (node.name.clone(), is_telemetry(node), node.direct_reference))
            .collect();
        let mut roots = BTreeSet::new();
        let mut only_telemetry = !requirers.is_empty();
        for (requirer, telemetry, application) in requirers {
            if telemetry {
                roots.insert(requirer.to_string());
                continue;
            }
            let through = if application {
                None
            } else {
                self.serves_only_telemetry(&requirer)
            };
            match through {
                Some(found) => roots.extend(found),
                None => {
                    only_telemetry = false;
                    break;
                }
            }
        }
        let roots = only_telemetry.then_some(roots);
        self.visiting.remove(name);
        self.memo.insert(name.clone(), roots.clone());
        roots
    }

    /// The need for library `name`, of the recommendation `instrumentation`. The
    /// instrumentation's own requirement on its library (the system-metrics one requires
    /// psutil) is no evidence either way, so it is not counted.
    fn library(&mut self, name: &str, instrumentation: &str) -> LibraryNeed {
        let Some(parsed) = parse_name(name) else {
            return LibraryNeed {
                name: name.to_owned(),
                need: Need::TopLevel,
                required_by: Vec::new(),
                telemetry: Vec::new(),
            };
        };
        let requirers: Vec<(PackageName, bool, bool)> = self
            .graph
            .requirers(&parsed)
            .into_iter()
            .filter(|(node, _)| node.name.as_ref() != instrumentation)
            .map(|(node, _)| (node.name.clone(), is_telemetry(node), node.direct_reference))
            .collect();
        let mut required_by: Vec<String> = requirers
            .iter()
            .map(|(name, _, _)| name.to_string())
            .collect();
        required_by.dedup();
        let mut roots = BTreeSet::new();
        let mut only_telemetry = true;
        for (requirer, telemetry, _) in &requirers {
            if *telemetry {
                roots.insert(requirer.to_string());
                continue;
            }
            match self.serves_only_telemetry(requirer) {
                Some(found) => roots.extend(found),
                None => {
                    only_telemetry = false;
                    break;
                }
            }
        }
        let (need, telemetry) = if requirers.is_empty() {
            (Need::TopLevel, Vec::new())
        } else if requirers.iter().any(|(_, _, application)| *application) {
            (Need::Application, Vec::new())
        } else if only_telemetry {
            (Need::TelemetryStack, roots.into_iter().collect())
        } else {
            (Need::Dependency, Vec::new())
        };
        LibraryNeed {
            name: parsed.to_string(),
            need,
            required_by,
            telemetry,
        }
    }
}

/// The relevance of each recommendation of `plan`, in the same order.
pub(crate) fn relevance(plan: &Plan, graph: &Graph, covers: &Covers) -> Vec<Relevance> {
    let mut walk = TelemetryWalk::new(graph);
    let mut found: Vec<Relevance> = plan
        .recommendations
        .iter()
        .map(|recommendation| need_of(recommendation, &mut walk))
        .collect();
    // Covered: another recommendation, itself needed by the application, covers it.
    let serving: HashSet<&str> = plan
        .recommendations
        .iter()
        .zip(&found)
        .filter(|(_, relevance)| relevance.need != Need::TelemetryStack)
        .map(|(recommendation, _)| recommendation.name.as_str())
        .collect();
    for (recommendation, relevance) in plan.recommendations.iter().zip(found.iter_mut()) {
        if matches!(relevance.need, Need::Default | Need::Included) {
            continue;
        }
        let Some(entry) = covers.get(&recommendation.name) else {
            continue;
        };
        if let Some(by) = entry
            .covered_by
            .iter()
            .find(|name| serving.contains(name.as_str()))
        {
            relevance.covered_by = Some(CoveredBy {
                instrumentation: by.clone(),
                reason: entry.reason.clone(),
            });
            relevance.needed = false;
        }
    }
    found
}

fn need_of(recommendation: &Recommendation, walk: &mut TelemetryWalk<'_>) -> Relevance {
    let satisfied_by = match &recommendation.reason {
        Reason::Default => return plain(Need::Default),
        Reason::Included { .. } => return plain(Need::Included),
        Reason::Libraries { satisfied_by } => satisfied_by,
    };
    let mut libraries: Vec<LibraryNeed> = Vec::new();
    for library in satisfied_by {
        if libraries
            .iter()
            .any(|known| known.name == normalize(&library.name))
        {
            continue;
        }
        libraries.push(walk.library(&library.name, &recommendation.name));
    }
    let need = libraries
        .iter()
        .map(|library| library.need)
        .max()
        .unwrap_or(Need::TopLevel);
    Relevance {
        needed: need != Need::TelemetryStack,
        need,
        libraries,
        covered_by: None,
    }
}

fn plain(need: Need) -> Relevance {
    Relevance {
        needed: true,
        need,
        libraries: Vec::new(),
        covered_by: None,
    }
}

/// `only required by opentelemetry-exporter-otlp-proto-http (through requests)`.
pub(crate) fn describe_telemetry(relevance: &Relevance) -> Option<String> {
    if relevance.need != Need::TelemetryStack {
        return None;
    }
    let mut roots: BTreeSet<&str> = BTreeSet::new();
    let mut through: BTreeSet<&str> = BTreeSet::new();
    for library in &relevance.libraries {
        roots.extend(library.telemetry.iter().map(String::as_str));
        for requirer in &library.required_by {
            if !library.telemetry.contains(requirer) {
                through.insert(requirer);
            }
        }
    }
    let roots: Vec<&str> = roots.into_iter().collect();
    let mut text = format!("only required by {}", roots.join(", "));
    if !through.is_empty() {
        let through: Vec<&str> = through.into_iter().collect();
        text.push_str(&format!(" (through {})", through.join(", ")));
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::NodeInput;

    #[test]
    fn explain_the_bundled_covers_table_is_valid_and_names_real_instrumentations() {
        let covers = Covers::parse(BUNDLED_COVERS).unwrap();
        assert!(!covers.entries().is_empty());
        let registry = crate::registry::Registry::bundled();
        let newest = registry.versions().next_back().unwrap().clone();
        let release = registry.load(&newest).unwrap();
        for entry in covers.entries() {
            for name in std::iter::once(&entry.instrumentation).chain(&entry.covered_by) {
                assert!(release.find(name).is_some(), "{name} is not in {newest}");
            }
        }
    }

    #[test]
    fn explain_bad_covers_tables_are_refused() {
        let refused = |text: &str| Covers::parse(text).unwrap_err();
        assert!(refused(r#"{"schema": 1, "covers": [], "extra": 1}"#).contains("unknown field"));
        assert!(refused(r#"{"schema": 2, "covers": []}"#).contains("schema"));
        let cycle = r#"{"schema": 1, "covers": [
            {"instrumentation": "a", "covered_by": ["b"], "reason": "r"},
            {"instrumentation": "b", "covered_by": ["a"], "reason": "r"}]}"#;
        assert_eq!(refused(cycle), "the entries cover each other: a -> b -> a");
        let unnormalized = r#"{"schema": 1, "covers": [{"instrumentation": "A_b", "covered_by": ["c"], "reason": "r"}]}"#;
        assert!(refused(unnormalized).contains("normalized"));
    }

    fn node(name: &str, requires: &[&str], direct: bool) -> NodeInput {
        NodeInput {
            name: PackageName::new(name.to_owned()).unwrap(),
            raw_version: "1.0".to_owned(),
            version: crate::requirement::parse_version("1.0"),
            path: format!("/site/{name}").into(),
            direct_reference: direct,
            requires_dist: Ok(requires.iter().map(|text| (*text).to_owned()).collect()),
        }
    }

    #[test]
    fn explain_needs_follow_the_graph() {
        let graph = Graph::build(
            vec![
                node("app", &["fastapi", "psutil"], true),
                node("fastapi", &["starlette>=0.40"], false),
                node("starlette", &[], false),
                node("psutil", &[], false),
                node(
                    "opentelemetry-exporter-otlp-proto-http",
                    &["requests~=2.7"],
                    false,
                ),
                node("requests", &["urllib3<3"], false),
                node("urllib3", &[], false),
                node("flask", &[], false),
                node("a", &["b"], false),
                node("six", &[], false),
                node(
                    "opentelemetry-instrumentation-system-metrics",
                    &["six"],
                    false,
                ),
                node("b", &["a"], false),
            ],
            None,
        );
        let mut walk = TelemetryWalk::new(&graph);
        let need = |walk: &mut TelemetryWalk<'_>, name| walk.library(name, "x").need;
        assert_eq!(need(&mut walk, "flask"), Need::TopLevel);
        assert_eq!(need(&mut walk, "fastapi"), Need::Application);
        assert_eq!(need(&mut walk, "starlette"), Need::Dependency);
        let requests = walk.library("requests", "x");
        assert_eq!(requests.need, Need::TelemetryStack);
        assert_eq!(
            requests.telemetry,
            ["opentelemetry-exporter-otlp-proto-http"]
        );
        let urllib3 = walk.library("urllib3", "x");
        assert_eq!(urllib3.need, Need::TelemetryStack);
        assert_eq!(urllib3.required_by, ["requests"]);
        // A cycle with no way out stays a dependency (undecided counts as needed).
        assert_eq!(need(&mut walk, "a"), Need::Dependency);
        // The instrumentation's own requirement on its library does not count.
        let psutil = walk.library("psutil", "opentelemetry-instrumentation-system-metrics");
        assert_eq!(psutil.need, Need::Application);
        let own = walk.library("six", "opentelemetry-instrumentation-system-metrics");
        assert_eq!(own.need, Need::TopLevel);
        assert!(own.required_by.is_empty());
    }
}
