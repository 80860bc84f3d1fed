//! The environment's dependency graph: every installed distribution with its
//! `Requires-Dist`, markers evaluated for the target interpreter and extras followed.
//!
//! Built only by the jobs that need it (`-a install`, `--check`), from one scan of every
//! distribution; requirements mode never pays for it. One place answers "who requires
//! X" ([`Graph::requirers`]), "is the environment consistent" ([`Graph::conflicts`], a
//! complete `pip check`), and "what else must move when these packages move"
//! ([`Graph::stack_moves`]). Pure: the I/O (reading `METADATA`) happens in [`crate::scan`].

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::fmt;
use std::path::PathBuf;

use crate::requirement::Version;
use crate::requirement::{MarkerEnvironment, PackageName};

use crate::requirement::{neighbour, Dependency, PlainRequirement};
use crate::scan::{self, Installed};

/// One installed distribution.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub(crate) name: PackageName,
    pub(crate) raw_version: String,
    pub(crate) version: Option<Version>,
    pub(crate) path: PathBuf,
    /// Installed from a URL or a local path (an editable project): no installer can move
    /// it by name.
    pub(crate) direct_reference: bool,
    /// Every parsed `Requires-Dist`, applicable or not.
    requires: Vec<Dependency>,
    /// The indexes into `requires` that apply (markers and active extras).
    applicable: Vec<usize>,
    /// Why its metadata could not be read, if it could not.
    pub(crate) unreadable: Option<String>,
}

impl Node {
    /// The requirements that apply in this environment.
    pub(crate) fn requirements(&self) -> impl Iterator<Item = &Dependency> {
        self.applicable.iter().map(|&index| &self.requires[index])
    }
}

/// What a node is built from: a distribution and its raw `Requires-Dist` lines.
#[derive(Debug, Clone)]
pub(crate) struct NodeInput {
    pub(crate) name: PackageName,
    pub(crate) raw_version: String,
    pub(crate) version: Option<Version>,
    pub(crate) path: PathBuf,
    pub(crate) direct_reference: bool,
    pub(crate) requires_dist: Result<Vec<String>, String>,
}

impl NodeInput {
    /// A distribution with these `Requires-Dist` lines, installed from an index at a
    /// made-up path: for tests and examples.
    #[cfg(test)]
    pub(crate) fn example(name: &str, version: &str, requires: &[&str]) -> Option<Self> {
        Some(Self {
            name: crate::requirement::parse_name(name)?,
            raw_version: version.to_owned(),
            version: crate::requirement::parse_version(version),
            path: PathBuf::from(format!("/site-packages/{name}-{version}.dist-info")),
            direct_reference: false,
            requires_dist: Ok(requires.iter().map(|text| (*text).to_owned()).collect()),
        })
    }
}

/// The graph.
#[derive(Debug, Clone, Default)]
pub(crate) struct Graph {
    nodes: Vec<Node>,
    by_name: HashMap<PackageName, usize>,
    /// For each node, the (dependent node, requirement index) pairs that name it.
    dependents: Vec<Vec<(usize, usize)>>,
}

/// One broken requirement: what `pip check` reports, naming both sides.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub(crate) struct Conflict {
    /// The distribution whose requirement is not met.
    pub(crate) package: String,
    pub(crate) version: String,
    /// Its requirement, without the marker.
    pub(crate) requirement: String,
    /// The project required, and its installed version (`None`: not installed).
    pub(crate) required: String,
    pub(crate) installed: Option<String>,
}

impl fmt::Display for Conflict {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.installed {
            None => write!(
                formatter,
                "{} {} requires `{}`, which is not installed",
                self.package, self.version, self.requirement
            ),
            Some(installed) => write!(
                formatter,
                "{} {} requires `{}`, but {} {installed} is installed",
                self.package, self.version, self.requirement, self.required
            ),
        }
    }
}

/// Reads every distribution's `Requires-Dist` (the I/O half of [`Graph::build`]).
pub(crate) fn inputs(installed: &Installed) -> Vec<NodeInput> {
    installed
        .iter_sorted()
        .into_iter()
        .map(|distribution| NodeInput {
            name: distribution.name.clone(),
            raw_version: distribution.raw_version.clone(),
            version: distribution.version.clone(),
            path: distribution.path.clone(),
            direct_reference: scan::is_direct_reference(&distribution.path),
            requires_dist: scan::requires_dist(&distribution.path),
        })
        .collect()
}

impl Graph {
    /// Builds the graph; `markers` is the target interpreter's marker environment (without
    /// one, markers that depend on it count as true).
    pub(crate) fn build(inputs: Vec<NodeInput>, markers: Option<&MarkerEnvironment>) -> Self {
        let mut graph = Graph::default();
        for input in inputs {
            if graph.by_name.contains_key(&input.name) {
                continue;
            }
            let (requires, unreadable) = match input.requires_dist {
                Ok(lines) => (
                    lines
                        .iter()
                        .filter_map(|line| Dependency::parse(line))
                        .collect(),
                    None,
                ),
                Err(reason) => (Vec::new(), Some(reason)),
            };
            graph.by_name.insert(input.name.clone(), graph.nodes.len());
            graph.nodes.push(Node {
                name: input.name,
                raw_version: input.raw_version,
                version: input.version,
                path: input.path,
                direct_reference: input.direct_reference,
                requires,
                applicable: Vec::new(),
                unreadable,
            });
        }
        graph.follow_extras(markers);
        graph.dependents = vec![Vec::new(); graph.nodes.len()];
        for (index, node) in graph.nodes.iter().enumerate() {
            for &requirement in &node.applicable {
                if let Some(&target) = graph.by_name.get(&node.requires[requirement].name) {
                    graph.dependents[target].push((index, requirement));
                }
            }
        }
        graph
    }

    /// Decides which requirements apply: those whose marker holds with no extra, then,
    /// until nothing changes, those of every extra that an applicable requirement asks of
    /// the distribution (`x[requests]` makes `x`'s `extra == "requests"` ones apply).
    fn follow_extras(&mut self, markers: Option<&MarkerEnvironment>) {
        let mut extras: Vec<BTreeSet<String>> = vec![BTreeSet::new(); self.nodes.len()];
        let mut queue: VecDeque<usize> = (0..self.nodes.len()).collect();
        let mut queued: Vec<bool> = vec![true; self.nodes.len()];
        while let Some(index) = queue.pop_front() {
            queued[index] = false;
            let active: Vec<String> = extras[index].iter().cloned().collect();
            let node = &mut self.nodes[index];
            node.applicable = (0..node.requires.len())
                .filter(|&requirement| node.requires[requirement].applies(markers, &active))
                .collect();
            let asked: Vec<(PackageName, Vec<String>)> = node
                .requirements()
                .filter(|requirement| !requirement.extras.is_empty())
                .map(|requirement| (requirement.name.clone(), requirement.extras.clone()))
                .collect();
            for (name, asked_extras) in asked {
                let Some(&target) = self.by_name.get(&name) else {
                    continue;
                };
                let mut grew = false;
                for extra in asked_extras {
                    grew |= extras[target].insert(extra);
                }
                if grew && !queued[target] {
                    queued[target] = true;
                    queue.push_back(target);
                }
            }
        }
    }

    pub(crate) fn get(&self, name: &PackageName) -> Option<&Node> {
        self.by_name.get(name).map(|&index| &self.nodes[index])
    }

    /// [`Graph::get`] by a name as written.
    pub(crate) fn get_str(&self, name: &str) -> Option<&Node> {
        self.get(&crate::requirement::parse_name(name)?)
    }

    /// The requirements that repair `conflict` within `release`: each OpenTelemetry
    /// package of the pair that is off its train goes to the release's version on that
    /// train (`0.x` packages to the release, `1.x` ones to the stable version upstream
    /// released with it); a required package that is missing is installed at the release
    /// when the requirement allows it, else as the requirement says.
    pub(crate) fn repair(&self, conflict: &Conflict, release: &Version) -> Vec<String> {
        let stable = stable_pair(release);
        let train_of = |version: &Version| {
            if version.release().first() == Some(&0) {
                Some(release.clone())
            } else {
                stable.clone()
            }
        };
        let mut repairs = Vec::new();
        for name in [&conflict.package, &conflict.required] {
            if !name.starts_with("opentelemetry-") {
                continue;
            }
            let Some(node) = self.get_str(name) else {
                let requirement = Dependency::parse(&conflict.requirement);
                repairs.push(match requirement {
                    Some(requirement) if requirement.accepts(release) => {
                        format!("{name}=={release}")
                    }
                    _ => conflict.requirement.clone(),
                });
                continue;
            };
            let Some(version) = &node.version else {
                continue;
            };
            if let Some(train) = train_of(version) {
                if &train != version {
                    repairs.push(format!("{name}=={train}"));
                }
            }
        }
        repairs
    }

    pub(crate) fn nodes(&self) -> impl Iterator<Item = &Node> {
        self.nodes.iter()
    }

    /// Who requires `name`, with the requirement, in name order.
    pub(crate) fn requirers(&self, name: &PackageName) -> Vec<(&Node, &Dependency)> {
        let Some(&index) = self.by_name.get(name) else {
            return Vec::new();
        };
        let mut found: Vec<(&Node, &Dependency)> = self.dependents[index]
            .iter()
            .map(|&(dependent, requirement)| {
                let node = &self.nodes[dependent];
                (node, &node.requires[requirement])
            })
            .collect();
        found.sort_by(|left, right| left.0.name.cmp(&right.0.name));
        found
    }

    /// Every requirement that is not met: a native, complete `pip check`, sorted.
    pub(crate) fn conflicts(&self) -> Vec<Conflict> {
        let mut conflicts = Vec::new();
        for node in &self.nodes {
            for requirement in node.requirements() {
                let found = self.get(&requirement.name);
                let met = found.is_some_and(|found| {
                    match &found.version {
                        Some(version) => requirement.accepts(version),
                        // A version that is not PEP 440 meets only a bare name or a URL.
                        None => !requirement.has_range(),
                    }
                });
                if !met {
                    conflicts.push(Conflict {
                        package: node.name.to_string(),
                        version: node.raw_version.clone(),
                        requirement: requirement.text.clone(),
                        required: requirement.name.to_string(),
                        installed: found.map(|found| found.raw_version.clone()),
                    });
                }
            }
        }
        conflicts.sort();
        conflicts.dedup();
        conflicts
    }

    /// The distributions that must move with `request` (what the installer is asked for)
    /// so that the environment stays consistent. See [`StackMoves`].
    pub(crate) fn stack_moves(&self, request: &[PlainRequirement]) -> StackMoves {
        StackWalk::new(self, request).run()
    }
}

/// Where a distribution moves.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub(crate) enum Target {
    /// To a version known now: the requirement asked of the installer.
    Known { requirement: String },
    /// Asked of the installer by name: its resolver picks the version that fits, newer
    /// (`upwards`) or older than the installed one. Which version is not known before
    /// the installer runs (the index is not consulted here); the result list names it.
    Resolver { upwards: bool },
}

/// A distribution that moves in the same transaction, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct StackMove {
    pub(crate) name: String,
    pub(crate) installed: String,
    pub(crate) target: Target,
    /// What makes it move (`opentelemetry-sdk 1.45.2 requires
    /// opentelemetry-semantic-conventions==0.66b2`), empty for what the request names.
    pub(crate) because: String,
}

impl StackMove {
    /// The requirement given to the installer for it.
    pub(crate) fn requirement(&self) -> String {
        match &self.target {
            Target::Known { requirement } => requirement.clone(),
            Target::Resolver { .. } => self.name.clone(),
        }
    }

    /// `opentelemetry-sdk 1.45.2 -> 1.45.1`, or `opentelemetry-foo 0.5 -> newer (…)` when
    /// the installer's resolver picks the version.
    pub(crate) fn describe(&self) -> String {
        match &self.target {
            Target::Known { requirement } => {
                let range = PlainRequirement::parse(requirement)
                    .map(|parsed| parsed.range_text())
                    .unwrap_or_else(|_| requirement.clone());
                let range = range.strip_prefix("==").unwrap_or(&range).to_owned();
                format!("{} {} -> {range}", self.name, self.installed)
            }
            Target::Resolver { upwards } => format!(
                "{} {} -> {} (the installer's resolver picks the version)",
                self.name,
                self.installed,
                if *upwards { "newer" } else { "older" }
            ),
        }
    }
}

/// An installed distribution that the moves would break and that no installer can move:
/// it was installed from a URL or a local path (the project itself, editable).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Blocker {
    pub(crate) package: String,
    pub(crate) version: String,
    pub(crate) requirement: String,
    /// The moving distribution it requires.
    pub(crate) moving: String,
}

impl fmt::Display for Blocker {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "{} {} (installed from a path or URL) requires `{}`, and {} has to move",
            self.package, self.version, self.requirement, self.moving
        )
    }
}

/// The result of [`Graph::stack_moves`].
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub(crate) struct StackMoves {
    /// Installed distributions outside the request that move with it, in the order found.
    pub(crate) moves: Vec<StackMove>,
    pub(crate) blockers: Vec<Blocker>,
}

/// The walk behind [`Graph::stack_moves`].
///
/// The request pins some packages (`opentelemetry-instrumentation==0.66b1`); an installed
/// package whose version the pin excludes moves, downwards or upwards. Then, until nothing
/// changes, for each moving package P:
/// - a dependent D whose requirement excludes P's new version moves (P's new version is
///   known when the request pins it; otherwise the requirement counts as excluded when it
///   excludes the version one step from P's in the move's direction: `~=1.45.2`,
///   `==1.45.2` and `>=1.45.2` break when 1.45.2 moves down, `~=1.12` does not), as does
///   a dependent released together with P (the same version);
/// - a package P pins exactly (`==`) moves too: P's other version pins another one.
///
/// A moving package released with the request's own release train (the version the
/// request moves the core packages from) gets the request's version; one released with
/// the stable API train (the installed `opentelemetry-api` version) gets the API version
/// that goes with the target release when the installed pair shows upstream's pairing
/// (`0.Nb K` with `1.(N-21).K`); every other one is left to the installer's resolver.
struct StackWalk<'a> {
    graph: &'a Graph,
    /// Packages the request names, by node index.
    requested: HashMap<usize, &'a PlainRequirement>,
    /// Moving node -> (upwards, the exact version it moves to when known).
    moving: HashMap<usize, (bool, Option<Version>)>,
    queue: VecDeque<usize>,
    result: StackMoves,
    /// (from, to) of the request's release train, and of the stable train.
    train: Option<(Version, Version)>,
    stable: Option<(Version, Version)>,
}

/// `opentelemetry-api`: its version names the stable train.
const API_PROJECT: &str = "opentelemetry-api";

impl<'a> StackWalk<'a> {
    fn new(graph: &'a Graph, request: &'a [PlainRequirement]) -> Self {
        let mut walk = StackWalk {
            graph,
            requested: HashMap::new(),
            moving: HashMap::new(),
            queue: VecDeque::new(),
            result: StackMoves::default(),
            train: None,
            stable: None,
        };
        for requirement in request {
            let Some(&index) = graph.by_name.get(&requirement.name) else {
                continue;
            };
            walk.requested.insert(index, requirement);
            let node = &graph.nodes[index];
            let Some(installed) = &node.version else {
                continue;
            };
            if requirement.contains(installed) {
                continue;
            }
            let exact = requirement.exact_version().cloned();
            let upwards = exact.as_ref().is_some_and(|target| target > installed);
            if let Some(target) = &exact {
                if node.name.as_ref() == crate::plan::INSTRUMENTATION_PROJECT {
                    walk.train = Some((installed.clone(), target.clone()));
                }
            }
            walk.moving.insert(index, (upwards, exact));
            walk.queue.push_back(index);
        }
        walk.stable = stable_train(graph, walk.train.as_ref());
        walk
    }

    fn run(mut self) -> StackMoves {
        while let Some(index) = self.queue.pop_front() {
            let (upwards, target) = self.moving[&index].clone();
            let node = &self.graph.nodes[index];
            // Dependents whose requirement the move breaks.
            for &(dependent, requirement) in &self.graph.dependents[index] {
                let requirement = &self.graph.nodes[dependent].requires[requirement];
                let breaks = match (&target, &node.version) {
                    (Some(target), _) => !requirement.accepts(target),
                    (None, Some(installed)) => {
                        neighbour(installed, upwards)
                            .is_some_and(|next| !requirement.accepts(&next))
                            || self.graph.nodes[dependent].raw_version == node.raw_version
                    }
                    (None, None) => false,
                };
                if breaks {
                    let because = format!(
                        "{} {} requires `{}`",
                        self.graph.nodes[dependent].name,
                        self.graph.nodes[dependent].raw_version,
                        requirement.text
                    );
                    self.join(dependent, upwards, because, node.name.as_ref());
                }
            }
            // What it pins exactly moves with it.
            for requirement in node.requirements() {
                let Some(&pinned) = self.graph.by_name.get(&requirement.name) else {
                    continue;
                };
                if is_exact_pin(requirement, &self.graph.nodes[pinned]) {
                    let because = format!(
                        "{} {} pins `{}`",
                        node.name, node.raw_version, requirement.text
                    );
                    self.join(pinned, upwards, because, node.name.as_ref());
                }
            }
        }
        self.result
    }

    /// `index` moves too, unless it is already moving or requested.
    fn join(&mut self, index: usize, upwards: bool, because: String, moving: &str) {
        if self.requested.contains_key(&index) {
            return;
        }
        let node = &self.graph.nodes[index];
        if node.direct_reference {
            // It cannot move; each requirement of it that the move breaks is named.
            let requirement = because.split('`').nth(1).unwrap_or_default().to_owned();
            let blocker = Blocker {
                package: node.name.to_string(),
                version: node.raw_version.clone(),
                requirement,
                moving: moving.to_owned(),
            };
            if !self.result.blockers.contains(&blocker) {
                self.result.blockers.push(blocker);
            }
            return;
        }
        if self.moving.contains_key(&index) {
            return;
        }
        let exact = node.version.as_ref().and_then(|installed| {
            [&self.train, &self.stable]
                .into_iter()
                .flatten()
                .find(|(from, _)| from == installed)
                .map(|(_, to)| to.clone())
        });
        let target = match &exact {
            Some(version) => Target::Known {
                requirement: format!("{}=={version}", node.name),
            },
            None => Target::Resolver { upwards },
        };
        self.result.moves.push(StackMove {
            name: node.name.to_string(),
            installed: node.raw_version.clone(),
            target,
            because,
        });
        self.moving.insert(index, (upwards, exact));
        self.queue.push_back(index);
    }
}

/// The stable train's (from, to) when the installed `opentelemetry-api` is the one
/// upstream released with the release the request moves from.
fn stable_train(graph: &Graph, train: Option<&(Version, Version)>) -> Option<(Version, Version)> {
    let (from, to) = train?;
    let api = PackageName::new(API_PROJECT.to_owned()).ok()?;
    let installed = graph.get(&api)?.version.clone()?;
    (stable_pair(from)? == installed).then_some(())?;
    Some((installed, stable_pair(to)?))
}

/// Whether `requirement` pins `node`'s installed version exactly (`==1.45.2`): it admits
/// neither neighbour.
fn is_exact_pin(requirement: &Dependency, node: &Node) -> bool {
    let Some(installed) = &node.version else {
        return false;
    };
    requirement.accepts(installed)
        && [true, false].iter().all(|&upwards| {
            neighbour(installed, upwards).is_some_and(|next| !requirement.accepts(&next))
        })
}

/// The stable-train version upstream releases with contrib release `0.N bK`: `1.(N-21).K`
/// (true of every release since 0.41b0 / 1.20.0). `None` for other shapes.
fn stable_pair(release: &Version) -> Option<Version> {
    let pre = release.pre()?;
    let &[0, minor] = release.release() else {
        return None;
    };
    if pre.kind != crate::requirement::PrereleaseKind::Beta
        || release.is_post()
        || release.is_dev()
        || minor < 21
    {
        return None;
    }
    Some(Version::new([1, minor - 21, pre.number]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_move_left_to_the_resolver_says_its_direction_and_why_no_version() {
        let moved = |upwards| StackMove {
            name: "opentelemetry-resource-detector-azure".to_owned(),
            installed: "0.1.5".to_owned(),
            target: Target::Resolver { upwards },
            because: String::new(),
        };
        assert_eq!(
            moved(true).describe(),
            "opentelemetry-resource-detector-azure 0.1.5 -> newer (the installer's resolver picks the version)"
        );
        assert!(moved(false).describe().contains("-> older ("));
        let pinned = StackMove {
            name: "opentelemetry-sdk".to_owned(),
            installed: "1.45.2".to_owned(),
            target: Target::Known {
                requirement: "opentelemetry-sdk==1.45.1".to_owned(),
            },
            because: String::new(),
        };
        assert_eq!(pinned.describe(), "opentelemetry-sdk 1.45.2 -> 1.45.1");
    }

    fn node(name: &str, version: &str, requires: &[&str]) -> NodeInput {
        NodeInput::example(name, version, requires).unwrap()
    }

    fn name(text: &str) -> PackageName {
        PackageName::new(text.to_owned()).unwrap()
    }

    fn request(texts: &[&str]) -> Vec<PlainRequirement> {
        texts
            .iter()
            .map(|text| PlainRequirement::parse(text).unwrap())
            .collect()
    }

    /// Today's documented flow: distro 0.66b2 and the OTLP exporter 1.45.2, as pip
    /// installs them unpinned (the requirements are the real packages').
    fn todays_flow() -> Vec<NodeInput> {
        vec![
            node(
                "opentelemetry-distro",
                "0.66b2",
                &[
                    "opentelemetry-api~=1.12",
                    "opentelemetry-instrumentation==0.66b2",
                    "opentelemetry-sdk~=1.13",
                    "opentelemetry-exporter-otlp==1.45.2; extra == 'otlp'",
                ],
            ),
            node(
                "opentelemetry-instrumentation",
                "0.66b2",
                &[
                    "opentelemetry-api~=1.4",
                    "opentelemetry-semantic-conventions==0.66b2",
                    "packaging>=18.0",
                    "wrapt<3.0.0,>=1.0.0",
                ],
            ),
            node(
                "opentelemetry-sdk",
                "1.45.2",
                &[
                    "opentelemetry-api==1.45.2",
                    "opentelemetry-semantic-conventions==0.66b2",
                    "typing-extensions>=4.5.0",
                    "opentelemetry-configuration==0.66b2; extra == 'file-configuration'",
                ],
            ),
            node(
                "opentelemetry-semantic-conventions",
                "0.66b2",
                &["opentelemetry-api==1.45.2", "typing-extensions>=4.5.0"],
            ),
            node("opentelemetry-api", "1.45.2", &["typing-extensions>=4.5.0"]),
            node(
                "opentelemetry-exporter-otlp",
                "1.45.2",
                &[
                    "opentelemetry-exporter-otlp-proto-grpc==1.45.2",
                    "opentelemetry-exporter-otlp-proto-http==1.45.2",
                ],
            ),
            node(
                "opentelemetry-exporter-otlp-proto-http",
                "1.45.2",
                &[
                    "googleapis-common-protos~=1.52",
                    "opentelemetry-api~=1.15",
                    "opentelemetry-exporter-http-transport[requests]==0.66b2",
                    "opentelemetry-exporter-otlp-common==0.66b2",
                    "opentelemetry-exporter-otlp-proto-common==1.45.2",
                    "opentelemetry-proto==1.45.2",
                    "opentelemetry-sdk~=1.45.2",
                    "requests~=2.7",
                ],
            ),
            node(
                "opentelemetry-exporter-otlp-proto-grpc",
                "1.45.2",
                &[
                    "grpcio<2.0.0,>=1.63.2; python_version < '3.13'",
                    "opentelemetry-api~=1.15",
                    "opentelemetry-exporter-otlp-common==0.66b2",
                    "opentelemetry-exporter-otlp-proto-common==1.45.2",
                    "opentelemetry-proto==1.45.2",
                    "opentelemetry-sdk~=1.45.2",
                ],
            ),
            node(
                "opentelemetry-exporter-otlp-common",
                "0.66b2",
                &[
                    "opentelemetry-sdk~=1.45.2",
                    "opentelemetry-exporter-http-transport==0.66b2; extra == 'http'",
                ],
            ),
            node(
                "opentelemetry-exporter-http-transport",
                "0.66b2",
                &[
                    "opentelemetry-api~=1.15",
                    "requests~=2.25; extra == 'requests'",
                    "urllib3>=1.26; extra == 'urllib3'",
                ],
            ),
            node(
                "opentelemetry-exporter-otlp-proto-common",
                "1.45.2",
                &["opentelemetry-proto==1.45.2"],
            ),
            node("opentelemetry-proto", "1.45.2", &["protobuf<8.0,>=5.0"]),
            node("googleapis-common-protos", "1.76.0", &["protobuf>=3.20.2"]),
            node("grpcio", "1.80.0", &["typing-extensions~=4.12"]),
            node("protobuf", "7.36.2", &[]),
            node("requests", "2.34.2", &["urllib3<3,>=1.21.1"]),
            node("urllib3", "2.6.0", &[]),
            node("packaging", "25.0", &[]),
            node("wrapt", "1.17.0", &[]),
            node("typing-extensions", "4.15.0", &[]),
        ]
    }

    #[test]
    fn todays_flow_is_consistent_and_knows_its_requirers() {
        let graph = Graph::build(todays_flow(), None);
        assert_eq!(graph.conflicts(), []);
        let requirers: Vec<String> = graph
            .requirers(&name("requests"))
            .iter()
            .map(|(node, requirement)| format!("{} {}", node.name, requirement.text))
            .collect();
        // The transport asks for requests through its `requests` extra, which the HTTP
        // exporter asks of it.
        assert_eq!(
            requirers,
            [
                "opentelemetry-exporter-http-transport requests~=2.25",
                "opentelemetry-exporter-otlp-proto-http requests~=2.7",
            ]
        );
        // The distro's `otlp` extra is asked by nobody.
        assert!(graph
            .requirers(&name("opentelemetry-exporter-otlp"))
            .is_empty());
    }

    #[test]
    fn the_stack_moves_with_a_partial_release_aligned_down() {
        let graph = Graph::build(todays_flow(), None);
        let request = request(&[
            "opentelemetry-instrumentation-flask==0.66b1",
            "opentelemetry-instrumentation==0.66b1",
            "opentelemetry-distro==0.66b1",
            "opentelemetry-semantic-conventions==0.66b1",
        ]);
        let moves = graph.stack_moves(&request);
        insta::assert_json_snapshot!(moves);
        let described: Vec<String> = moves.moves.iter().map(StackMove::describe).collect();
        assert!(described.contains(&"opentelemetry-sdk 1.45.2 -> 1.45.1".to_owned()));
        assert!(described.contains(&"opentelemetry-api 1.45.2 -> 1.45.1".to_owned()));
        assert!(
            described.contains(&"opentelemetry-exporter-otlp-common 0.66b2 -> 0.66b1".to_owned())
        );
        // Unrelated libraries never move.
        assert!(!described.iter().any(|line| line.starts_with("requests ")));
        assert!(moves.blockers.is_empty());
    }

    #[test]
    fn nothing_moves_when_the_request_is_installed() {
        let graph = Graph::build(todays_flow(), None);
        let moves = graph.stack_moves(&request(&["opentelemetry-instrumentation==0.66b2"]));
        assert_eq!(moves, StackMoves::default());
    }

    #[test]
    fn a_vendor_distro_that_allows_the_move_stays() {
        let mut inputs = todays_flow();
        inputs.push(node(
            "azure-monitor-opentelemetry",
            "1.8.0",
            &[
                "opentelemetry-sdk~=1.39",
                "opentelemetry-instrumentation-flask~=0.60b0",
            ],
        ));
        let graph = Graph::build(inputs, None);
        let moves = graph.stack_moves(&request(&["opentelemetry-instrumentation==0.66b1"]));
        assert!(!moves
            .moves
            .iter()
            .any(|moved| moved.name == "azure-monitor-opentelemetry"));
        // It requires an instrumentation that is not installed: a conflict, reported.
        assert_eq!(
            graph.conflicts()[0].to_string(),
            "azure-monitor-opentelemetry 1.8.0 requires `opentelemetry-instrumentation-flask~=0.60b0`, which is not installed"
        );
    }

    #[test]
    fn an_editable_project_that_forbids_the_move_blocks_it() {
        let mut inputs = todays_flow();
        let mut project = node(
            "my-app",
            "0.1.0",
            &[
                "opentelemetry-distro>=0.66b2",
                "opentelemetry-exporter-otlp>=1.45.2",
            ],
        );
        project.direct_reference = true;
        inputs.push(project);
        let graph = Graph::build(inputs, None);
        let moves = graph.stack_moves(&request(&[
            "opentelemetry-instrumentation==0.66b1",
            "opentelemetry-distro==0.66b1",
        ]));
        assert_eq!(
            moves.blockers.iter().map(ToString::to_string).collect::<Vec<_>>(),
            [
                "my-app 0.1.0 (installed from a path or URL) requires `opentelemetry-distro>=0.66b2`, and opentelemetry-distro has to move",
                "my-app 0.1.0 (installed from a path or URL) requires `opentelemetry-exporter-otlp>=1.45.2`, and opentelemetry-exporter-otlp has to move",
            ]
        );
    }

    #[test]
    fn conflicts_follow_markers_extras_cycles_and_bad_requirements() {
        let graph = Graph::build(
            vec![
                node(
                    "a",
                    "1.0",
                    &[
                        "b[fast]>=2",
                        "c; python_version < '3'",
                        "not a requirement ((",
                    ],
                ),
                node(
                    "b",
                    "2.0",
                    &["a==1.0", "d>=1; extra == 'fast'", "e; extra == 'slow'"],
                ),
                node("d", "0.5", &[]),
            ],
            Some(&marker_environment()),
        );
        let text: Vec<String> = graph.conflicts().iter().map(ToString::to_string).collect();
        assert_eq!(text, ["b 2.0 requires `d>=1`, but d 0.5 is installed"]);
        // Without a marker environment, `c` counts.
        let graph = Graph::build(vec![node("a", "1.0", &["c; python_version < '3'"])], None);
        assert_eq!(graph.conflicts().len(), 1);
    }

    #[test]
    fn unreadable_metadata_is_kept_not_fatal() {
        let mut broken = node("x", "1", &[]);
        broken.requires_dist = Err("`/site/x-1.dist-info/METADATA`: denied".to_owned());
        let graph = Graph::build(vec![broken], None);
        assert!(graph.get(&name("x")).unwrap().unreadable.is_some());
        assert_eq!(graph.conflicts(), []);
    }

    #[test]
    fn pairs_releases_with_the_stable_train() {
        let pair = |text: &str| {
            stable_pair(&crate::requirement::parse_version(text).unwrap())
                .map(|version| version.to_string())
        };
        assert_eq!(pair("0.66b1").as_deref(), Some("1.45.1"));
        assert_eq!(pair("0.41b0").as_deref(), Some("1.20.0"));
        assert_eq!(pair("1.0"), None);
    }

    fn marker_environment() -> MarkerEnvironment {
        MarkerEnvironment::try_from(crate::requirement::MarkerEnvironmentBuilder {
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
}
