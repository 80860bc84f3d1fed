//! `--check`: compares the plan with what is installed (or locked), like a linter.
//!
//! Three problems: a recommended instrumentation is *missing*; it is installed at a
//! version outside the recommended requirement (*wrong version*); or an instrumentation
//! the registry lists for libraries is installed while the plan does not recommend it
//! because its libraries are absent or out of range (*stale*). Instrumentations excluded
//! with `--exclude` are ignored, and so are opt-in ones that were not asked for.
//!
//! The comparison ([`check`]) is pure. Text output: one line per problem on stdout (the
//! data), a summary and the commands that fix them on stderr. JSON output: one document
//! on stdout. The exit status is 1 when there is a problem.

use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;

use crate::diagnostics::Warning;
use crate::graph::Graph;
use crate::plan::{Plan, SkipReason};
use crate::registry::{Kind, Release};
use crate::requirement::PlainRequirement;
use crate::scan::Installed;

/// What was compared with the plan, for wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Subject {
    /// A scanned environment: packages are "installed".
    Environment,
    /// Lock or requirements files: packages are "locked".
    Lockfile,
}

impl Subject {
    fn verb(self) -> &'static str {
        match self {
            Self::Environment => "installed",
            Self::Lockfile => "locked",
        }
    }
}

/// The kind of problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum ProblemKind {
    Missing,
    WrongVersion,
    Stale,
    /// An installed distribution's requirement on an OpenTelemetry package (or an
    /// OpenTelemetry distribution's requirement) is not met: `pip check` fails.
    Inconsistent,
    /// An installed instrumentor's entry point fails to load (the load check):
    /// `opentelemetry-instrument` would skip it silently.
    DoesNotLoad,
}

impl ProblemKind {
    fn label(self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::WrongVersion => "wrong-version",
            Self::Stale => "stale",
            Self::Inconsistent => "inconsistent",
            Self::DoesNotLoad => "does-not-load",
        }
    }
}

/// One problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Problem {
    pub(crate) kind: ProblemKind,
    /// The instrumentation's project name.
    pub(crate) name: String,
    /// The requirement the plan wants (absent for stale ones).
    pub(crate) requirement: Option<String>,
    /// The version installed or locked (absent for missing ones).
    pub(crate) installed: Option<String>,
    /// Where it is installed or locked.
    pub(crate) location: Option<String>,
    /// Why, in words.
    pub(crate) reason: String,
}

/// The outcome of a check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct CheckReport {
    pub(crate) release: String,
    /// How many recommendations were checked.
    pub(crate) checked: usize,
    /// Missing first, then wrong versions, then stale ones; each in plan (upstream) order.
    pub(crate) problems: Vec<Problem>,
    /// Instrumentations that would be stale but that another installed distribution
    /// requires (a vendor distro): kept, with who requires them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) kept: Vec<Kept>,
    /// What else the fix installs so that the environment ends consistent: the packages
    /// `-a install` would move with the plan, and the repairs of inconsistent ones.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) moves: Vec<String>,
}

/// An instrumentation kept because another distribution requires it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Kept {
    pub(crate) name: String,
    pub(crate) required_by: Vec<String>,
}

impl CheckReport {
    pub(crate) fn passed(&self) -> bool {
        self.problems.is_empty()
    }

    /// The requirements to install: the missing and wrong-version ones, then what moves
    /// with them and what repairs an inconsistency.
    pub(crate) fn to_install(&self) -> Vec<&str> {
        let mut seen = std::collections::HashSet::new();
        self.problems
            .iter()
            .filter(|problem| problem.kind != ProblemKind::Inconsistent)
            .filter_map(|problem| problem.requirement.as_deref())
            .chain(self.moves.iter().map(String::as_str))
            .filter(|requirement| seen.insert(*requirement))
            .collect()
    }

    /// The project names to remove: the stale ones, and those that do not load and that
    /// the plan does not recommend.
    pub(crate) fn to_remove(&self) -> Vec<&str> {
        let mut seen = std::collections::HashSet::new();
        self.problems
            .iter()
            .filter(|problem| {
                problem.kind == ProblemKind::Stale
                    || (problem.kind == ProblemKind::DoesNotLoad && problem.requirement.is_none())
            })
            .map(|problem| problem.name.as_str())
            .filter(|name| seen.insert(*name))
            .collect()
    }
}

/// Compares `plan` (made from `release`) with `installed`. Instrumentations named in
/// `exclude` (as `--exclude` takes them) are never stale.
pub(crate) fn check(
    plan: &Plan,
    release: &Release,
    installed: &Installed,
    exclude: &[String],
    subject: Subject,
) -> CheckReport {
    let verb = subject.verb();
    let mut problems = Vec::new();
    for recommendation in &plan.recommendations {
        let why = recommendation.reason.summary(verb);
        let Some(requirement) = PlainRequirement::parse(&recommendation.requirement).ok() else {
            continue;
        };
        match installed.get(&requirement.name) {
            None => problems.push(Problem {
                kind: ProblemKind::Missing,
                name: recommendation.name.clone(),
                requirement: Some(recommendation.requirement.clone()),
                installed: None,
                location: None,
                reason: why,
            }),
            Some(distribution) => {
                let in_range = distribution
                    .version
                    .as_ref()
                    .is_some_and(|version| requirement.contains(version));
                if !in_range {
                    problems.push(Problem {
                        kind: ProblemKind::WrongVersion,
                        name: recommendation.name.clone(),
                        requirement: Some(recommendation.requirement.clone()),
                        installed: Some(distribution.raw_version.clone()),
                        location: Some(distribution.path.display().to_string()),
                        reason: format!(
                            "{} {} is {verb}, the plan wants `{}`",
                            recommendation.name,
                            distribution.raw_version,
                            recommendation.requirement
                        ),
                    });
                }
            }
        }
    }
    for instrumentation in &release.instrumentations {
        if instrumentation.kind != Kind::Library {
            continue;
        }
        let name = instrumentation.name.to_string();
        let recommended = plan
            .recommendations
            .iter()
            .any(|recommendation| recommendation.name == name);
        let skipped = plan.skipped.iter().find(|skipped| skipped.name == name);
        let excluded = exclude
            .iter()
            .any(|excluded| instrumentation.is_named(excluded));
        if recommended || excluded {
            continue;
        }
        let Some(distribution) = installed.get(&instrumentation.name) else {
            continue;
        };
        let reasons: Vec<String> = skipped
            .map(|skipped| {
                skipped
                    .reasons
                    .iter()
                    .filter_map(|reason| skip_reason(reason, verb))
                    .collect()
            })
            .unwrap_or_default();
        let reason = if reasons.is_empty() {
            let libraries: Vec<String> = instrumentation
                .instruments
                .iter()
                .chain(&instrumentation.instruments_any)
                .map(|requirement| requirement.name.to_string())
                .collect();
            format!(
                "{} is {verb}, but none of its libraries ({}) is",
                name,
                libraries.join(", ")
            )
        } else {
            format!("{name} is {verb}, but {}", reasons.join("; "))
        };
        problems.push(Problem {
            kind: ProblemKind::Stale,
            name,
            requirement: None,
            installed: Some(distribution.raw_version.clone()),
            location: Some(distribution.path.display().to_string()),
            reason,
        });
    }
    // Stable: by kind, then in the order found (plan order, then registry order).
    problems.sort_by_key(|problem| problem.kind);
    CheckReport {
        release: plan.release.clone(),
        checked: plan.recommendations.len(),
        problems,
        kept: Vec::new(),
        moves: Vec::new(),
    }
}

/// What the load check adds to `report`: each instrumentor that does not load is a
/// problem naming its error, with a fix: when the plan recommends another package for
/// its library (or nothing), removing it; when the plan recommends it at another version,
/// that version; else `--exclude` (or a version that loads).
pub(crate) fn check_loads(
    report: &mut CheckReport,
    plan: &Plan,
    loads: &crate::install::load_check::LoadReport,
) {
    for failure in &loads.failures {
        let name = crate::requirement::normalize(&failure.distribution);
        let recommendation = plan
            .recommendations
            .iter()
            .find(|recommendation| crate::requirement::normalize(&recommendation.name) == name);
        let replaced_by = plan.skipped.iter().find_map(|skipped| {
            (crate::requirement::normalize(&skipped.name) == name)
                .then(|| {
                    skipped.reasons.iter().find_map(|reason| match reason {
                        SkipReason::Replaced { by, .. } => Some(by.clone()),
                        _ => None,
                    })
                })
                .flatten()
        });
        let installed_matches = recommendation.is_some_and(|recommendation| {
            crate::requirement::parse_version(&failure.version)
                .is_some_and(|version| recommendation.parsed.contains(&version))
        });
        let fix = match (recommendation, replaced_by) {
            (_, Some(by)) => format!("remove it; {by} is recommended for its library instead"),
            (Some(recommendation), _) if !installed_matches => {
                format!("install `{}`", recommendation.requirement)
            }
            (Some(_), _) => format!(
                "install a version that loads, or leave it out: `--exclude {}` and remove it",
                crate::explain::short(&name)
            ),
            (None, None) => "remove it: the plan does not recommend it".to_owned(),
        };
        // A recommended package whose installed version is not the recommended one keeps
        // its requirement (installing it is the fix); the others are removed.
        let requirement = recommendation
            .filter(|_| !installed_matches)
            .map(|recommendation| recommendation.requirement.clone());
        report.problems.push(Problem {
            kind: ProblemKind::DoesNotLoad,
            name: failure.distribution.clone(),
            requirement,
            installed: Some(failure.version.clone()),
            location: None,
            reason: format!(
                "{} {}: its instrumentor `{}` does not load: {}; fix: {fix}",
                failure.distribution, failure.version, failure.entry_point, failure.error
            ),
        });
    }
    report.problems.sort_by_key(|problem| problem.kind);
}

/// What the installed environment's dependency graph adds to `report`: an instrumentation
/// another distribution requires is kept, not stale; every unmet requirement that involves
/// an OpenTelemetry package is a problem; and the fix moves what `-a install` would move,
/// plus, for each inconsistency, the required package at the release's version.
pub(crate) fn check_graph(report: &mut CheckReport, plan: &Plan, graph: &Graph) {
    let mut kept = Vec::new();
    report.problems.retain(|problem| {
        if problem.kind != ProblemKind::Stale {
            return true;
        }
        let Some(name) = crate::requirement::parse_name(&problem.name) else {
            return true;
        };
        let required_by: Vec<String> = graph
            .requirers(&name)
            .iter()
            .map(|(node, requirement)| {
                format!(
                    "{} {} (`{}`)",
                    node.name, node.raw_version, requirement.text
                )
            })
            .collect();
        if required_by.is_empty() {
            return true;
        }
        kept.push(Kept {
            name: problem.name.clone(),
            required_by,
        });
        false
    });
    report.kept = kept;

    let release = plan.release_version();
    let mut repairs = Vec::new();
    for conflict in graph.conflicts() {
        let ours = |name: &str| name.starts_with("opentelemetry-");
        if !ours(&conflict.package) && !ours(&conflict.required) {
            continue;
        }
        for repair in graph.repair(&conflict, release) {
            if !repairs.contains(&repair) {
                repairs.push(repair);
            }
        }
        report.problems.push(Problem {
            kind: ProblemKind::Inconsistent,
            name: conflict.package.clone(),
            requirement: Some(conflict.requirement.clone()),
            installed: Some(conflict.version.clone()),
            location: graph
                .get_str(&conflict.package)
                .map(|node| node.path.display().to_string()),
            reason: conflict.to_string(),
        });
    }
    let requested: Vec<PlainRequirement> = report
        .to_install()
        .iter()
        .map(|text| (*text).to_owned())
        .chain(plan.core_move_requirements().map(str::to_owned))
        .chain(repairs.iter().cloned())
        .filter_map(|text| PlainRequirement::parse(&text).ok())
        .collect();
    let stack = graph.stack_moves(&requested);
    let mut moves: Vec<String> = plan.core_move_requirements().map(str::to_owned).collect();
    moves.extend(repairs);
    moves.extend(stack.moves.iter().map(crate::graph::StackMove::requirement));
    report.moves = moves;
}

fn skip_reason(reason: &SkipReason, verb: &str) -> Option<String> {
    match reason {
        SkipReason::Excluded | SkipReason::OptIn | SkipReason::NeverPublished => None,
        _ => Some(reason.describe(verb)),
    }
}

/// Which tool the fix commands use: the one that manages what was checked, so that the
/// fix lands in the project's manifest and lock rather than only in an environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum FixTool {
    /// A uv project (`pyproject.toml` and `uv.lock`): `uv add` / `uv remove`, into the
    /// selected extra (`--optional`) or dependency group (`--group`) when one was read.
    Uv { into: Destination },
    /// A Poetry project: `poetry add` / `poetry remove` (`--group` for a group).
    Poetry { into: Destination },
    /// A PDM project: `pdm add` / `pdm remove` (`-G` for an optional group, `-dG` for a
    /// development group).
    Pdm { into: Destination },
    /// A pipenv project: `pipenv install` / `pipenv uninstall` (`--dev`, `--categories`).
    Pipenv { into: Destination },
    /// A Hatch project (no lock, no add command): edit `[project].dependencies` of its
    /// `pyproject.toml`; the next `hatch run` installs them.
    Hatch { file: String },
    /// A requirements file compiled by pip-tools from an input file: edit the input,
    /// then `pip-compile` it, and, for an environment (`sync`, its interpreter), `pip-sync`
    /// it to the compiled file: recorded and compiled alone, nothing is installed.
    PipTools { input: String, sync: Option<String> },
    /// A requirements file of its own: edit it.
    Requirements { file: String },
    /// `pip install` / `pip uninstall`, for site-packages named without their
    /// interpreter (whichever pip installs into them).
    Pip,
    /// `'<python>' -m pip install` / `uninstall -y`: the checked environment's own pip,
    /// whatever `pip` on `PATH` is.
    PythonPip { python: String },
    /// `uv pip install --python '<python>'`: an environment without pip (as uv makes them).
    UvPip { python: String },
    /// A `pylock.toml`: the requirements go into the project, then the lock is exported
    /// again (the fix cannot edit the lock itself).
    Pylock { file: String },
    /// A uv workspace member's lock selection (`--package`): `uv add --package`.
    UvMember { into: Destination, package: String },
    /// The fix of `tool`, run in `directory` (the project of a lock that is not in the
    /// current directory): `cd 'DIR' && uv add …`.
    In {
        directory: String,
        tool: Box<FixTool>,
    },
}

/// pip-tools' steps after an edit of `input`: `pip-compile` it (next to it, as
/// `requirements.txt`), then, for an environment, `pip-sync` that file into it.
fn pip_tools_steps(input: &str, sync: Option<&str>) -> String {
    let compile = format!("`pip-compile {}`", quote(input));
    match sync {
        Some(python) => {
            let compiled = Path::new(input).with_extension("txt");
            format!(
                "{compile} and `pip-sync --python-executable {} {}`",
                quote(python),
                quote(&compiled.display().to_string())
            )
        }
        None => compile,
    }
}

/// Where in the project the fix records the packages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Destination {
    /// The main dependencies.
    Main,
    /// An extra (`[project.optional-dependencies]`).
    Extra(String),
    /// A dependency group (or a Pipfile category).
    Group(String),
}

impl FixTool {
    /// The tool of the project around `directory` ([`crate::project::detect`]: uv, Poetry,
    /// PDM, pipenv, Hatch, pip-tools), else `pip install`.
    pub(crate) fn detect(directory: &Path) -> Self {
        Self::for_project(crate::project::detect(directory).as_ref())
    }

    /// The fix in the words of `project`'s tool, into its main dependencies (Hatch: the
    /// `[project].dependencies` of its `pyproject.toml`; pip-tools: its `requirements.in`,
    /// then `pip-compile`); `pip install` for no project.
    pub(crate) fn for_project(project: Option<&crate::project::Project>) -> Self {
        use crate::project::Tool;
        let Some(project) = project else {
            return Self::Pip;
        };
        let into = Destination::Main;
        match project.tool {
            Tool::Uv => Self::Uv { into },
            Tool::Poetry => Self::Poetry { into },
            Tool::Pdm => Self::Pdm { into },
            Tool::Pipenv => Self::Pipenv { into },
            Tool::Hatch => Self::Hatch {
                file: project.pyproject().display().to_string(),
            },
            Tool::PipTools => Self::PipTools {
                input: project.root.join("requirements.in").display().to_string(),
                sync: None,
            },
        }
    }

    /// The fix for an environment: its project's tool when it belongs to one, else its own
    /// interpreter's pip (or `uv pip` when it has no pip); `Pip` when only its
    /// site-packages are known.
    pub(crate) fn for_environment(
        project: Option<&crate::project::Project>,
        interpreter: Option<&Path>,
        has_pip: bool,
    ) -> Self {
        if project.is_some() {
            return match Self::for_project(project) {
                Self::PipTools { input, .. } => Self::PipTools {
                    input,
                    sync: interpreter.map(|python| python.display().to_string()),
                },
                tool => tool,
            };
        }
        match interpreter {
            Some(interpreter) => {
                let python = interpreter.display().to_string();
                if has_pip {
                    Self::PythonPip { python }
                } else {
                    Self::UvPip { python }
                }
            }
            None => Self::Pip,
        }
    }

    /// The tool of the project a `--from` file belongs to, from its format and name,
    /// recording where the selection read (the first `--extra`, else the first
    /// `--group`/`--with`, else `--dev` for a Pipfile.lock). `None` for a file whose
    /// project tool is not known from the file alone (pylock.toml).
    pub(crate) fn for_lockfile(
        format: crate::lockfile::FileFormat,
        path: &Path,
        selection: &crate::lockfile::GroupSelection,
    ) -> Option<Self> {
        use crate::lockfile::FileFormat;
        let into = match (
            selection.extras.first(),
            selection.groups.iter().chain(&selection.with).next(),
        ) {
            (Some(extra), _) => Destination::Extra(extra.clone()),
            (None, Some(group)) => Destination::Group(group.clone()),
            (None, None) if selection.dev && format == FileFormat::PipfileLock => {
                Destination::Group("develop".to_owned())
            }
            (None, None) => Destination::Main,
        };
        let tool = match format {
            FileFormat::UvLock => match &selection.package {
                Some(package) => Some(Self::UvMember {
                    into,
                    package: package.clone(),
                }),
                None => Some(Self::Uv { into }),
            },
            FileFormat::PoetryLock => Some(Self::Poetry { into }),
            FileFormat::PdmLock => Some(Self::Pdm {
                into: pdm_destination(path, into),
            }),
            FileFormat::PipfileLock => Some(Self::Pipenv { into }),
            FileFormat::Requirements => {
                let input = path.with_extension("in");
                Some(if input.is_file() {
                    Self::PipTools {
                        input: input.display().to_string(),
                        sync: None,
                    }
                } else {
                    Self::Requirements {
                        file: path.display().to_string(),
                    }
                })
            }
            FileFormat::Pylock => Some(Self::Pylock {
                file: path.display().to_string(),
            }),
        }?;
        // A command runs where the lock's project is; an edit names its file already.
        let directory = path
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty());
        let current = std::env::current_dir().ok();
        let elsewhere = directory.is_some_and(|directory| {
            current
                .as_deref()
                .is_none_or(|current| !crate::environment::same_path(current, directory))
        });
        Some(match directory {
            Some(directory) if elsewhere && tool.is_command() => Self::In {
                directory: directory.display().to_string(),
                tool: Box::new(tool),
            },
            _ => tool,
        })
    }

    /// The same tool, recording into `into` (uv, Poetry, PDM, pipenv; the others have
    /// one place).
    pub(crate) fn into(self, into: Destination) -> Self {
        match self {
            Self::Uv { .. } => Self::Uv { into },
            Self::Poetry { .. } => Self::Poetry { into },
            Self::Pdm { .. } => Self::Pdm { into },
            Self::Pipenv { .. } => Self::Pipenv { into },
            other => other,
        }
    }

    /// Whether the fix is a command to run (else it is an edit, said in words).
    pub(crate) fn is_command(&self) -> bool {
        match self {
            Self::Hatch { .. }
            | Self::PipTools { .. }
            | Self::Requirements { .. }
            | Self::Pylock { .. } => false,
            Self::In { tool, .. } => tool.is_command(),
            _ => true,
        }
    }

    /// The command installing `requirements`, or `None` when there are none.
    pub(crate) fn install_command(&self, requirements: &[&str]) -> Option<String> {
        let program = match self {
            Self::Uv { into } => match into {
                Destination::Main => "uv add".to_owned(),
                Destination::Extra(extra) => format!("uv add --optional {}", quote(extra)),
                Destination::Group(group) => format!("uv add --group {}", quote(group)),
            },
            Self::Poetry { into } => match into {
                Destination::Main => "poetry add".to_owned(),
                Destination::Extra(extra) => format!("poetry add --optional {}", quote(extra)),
                Destination::Group(group) => format!("poetry add --group {}", quote(group)),
            },
            Self::Pdm { into } => match into {
                Destination::Main => "pdm add".to_owned(),
                Destination::Extra(extra) => format!("pdm add -G {}", quote(extra)),
                Destination::Group(group) => format!("pdm add -dG {}", quote(group)),
            },
            Self::Pipenv { into } => pipenv("install", into),
            Self::PipTools { input, sync } => {
                let lines = command("", requirements)?;
                return Some(format!(
                    "add{lines} to `{input}`, then {}",
                    pip_tools_steps(input, sync.as_deref())
                ));
            }
            Self::Requirements { file } => {
                let lines = command("", requirements)?;
                return Some(format!(
                    "add{lines} to `{file}`, one per line (replacing any line of the same name)"
                ));
            }
            Self::Hatch { file } => {
                let lines = command("", requirements)?;
                return Some(format!(
                    "add{lines} to `[project].dependencies` in `{file}` (replacing their entries; the next `hatch run` installs them)"
                ));
            }
            Self::Pip => "pip install".to_owned(),
            Self::PythonPip { python } => format!("{} -m pip install", quote(python)),
            Self::UvPip { python } => format!("uv pip install --python {}", quote(python)),
            Self::UvMember { into, package } => {
                let inner = Self::Uv { into: into.clone() }.install_command(requirements)?;
                return Some(inner.replacen(
                    "uv add",
                    &format!("uv add --package {}", quote(package)),
                    1,
                ));
            }
            Self::Pylock { file } => {
                let lines = command("", requirements)?;
                return Some(format!(
                    "add{lines} to the project's requirements, then export `{file}` again (`uv export --format pylock.toml -o {}`, or `pip lock`)",
                    quote(file)
                ));
            }
            Self::In { directory, tool } => {
                let inner = tool.install_command(requirements)?;
                return Some(format!("cd {} && {inner}", quote(directory)));
            }
        };
        command(&program, requirements)
    }

    /// The command removing `names`, or `None` when there are none.
    pub(crate) fn remove_command(&self, names: &[&str]) -> Option<String> {
        let program = match self {
            Self::Uv { into } => match into {
                Destination::Main => "uv remove".to_owned(),
                Destination::Extra(extra) => format!("uv remove --optional {}", quote(extra)),
                Destination::Group(group) => format!("uv remove --group {}", quote(group)),
            },
            Self::Poetry { into } => match into {
                Destination::Main | Destination::Extra(_) => "poetry remove".to_owned(),
                Destination::Group(group) => format!("poetry remove --group {}", quote(group)),
            },
            Self::Pdm { into } => match into {
                Destination::Main => "pdm remove".to_owned(),
                Destination::Extra(extra) => format!("pdm remove -G {}", quote(extra)),
                Destination::Group(group) => format!("pdm remove -dG {}", quote(group)),
            },
            Self::Pipenv { into } => pipenv("uninstall", into),
            Self::PipTools { input, sync } => {
                let lines = command("", names)?;
                return Some(format!(
                    "remove{lines} from `{input}`, then {}",
                    pip_tools_steps(input, sync.as_deref())
                ));
            }
            Self::Requirements { file } => {
                let lines = command("", names)?;
                return Some(format!("remove{lines} from `{file}`"));
            }
            Self::Hatch { file } => {
                let lines = command("", names)?;
                return Some(format!(
                    "remove{lines} from the dependencies in `{file}`, then `hatch env prune`"
                ));
            }
            Self::Pip => "pip uninstall -y".to_owned(),
            Self::PythonPip { python } => format!("{} -m pip uninstall -y", quote(python)),
            Self::UvPip { python } => format!("uv pip uninstall --python {}", quote(python)),
            Self::UvMember { into, package } => {
                let inner = Self::Uv { into: into.clone() }.remove_command(names)?;
                return Some(inner.replacen(
                    "uv remove",
                    &format!("uv remove --package {}", quote(package)),
                    1,
                ));
            }
            Self::Pylock { file } => {
                let lines = command("", names)?;
                return Some(format!(
                    "remove{lines} from the project's requirements, then export `{file}` again (`uv export --format pylock.toml -o {}`, or `pip lock`)",
                    quote(file)
                ));
            }
            Self::In { directory, tool } => {
                let inner = tool.remove_command(names)?;
                return Some(format!("cd {} && {inner}", quote(directory)));
            }
        };
        command(&program, names)
    }
}

/// PDM's `--group G` names an optional group (an extra, `pdm add -G`) as well as a
/// development group (`pdm add -dG`): the project's `pyproject.toml` beside the lock says
/// which.
fn pdm_destination(lock: &Path, into: Destination) -> Destination {
    let Destination::Group(group) = into else {
        return into;
    };
    let root = lock.parent().unwrap_or(Path::new("."));
    let manifest = crate::project::manifest::Manifest::read(root, false);
    let normalized = crate::requirement::normalize(&group);
    let is_extra = manifest.entries.iter().any(|(place, _)| {
        matches!(place, crate::project::manifest::Place::Extra(extra)
            if crate::requirement::normalize(extra) == normalized)
    });
    if is_extra {
        Destination::Extra(group)
    } else {
        Destination::Group(group)
    }
}

/// `pipenv install`, with the category: `--dev` for `develop`, `--categories` for
/// another one.
fn pipenv(verb: &str, into: &Destination) -> String {
    match into {
        Destination::Main => format!("pipenv {verb}"),
        Destination::Group(group) if group == "develop" || group == "dev-packages" => {
            format!("pipenv {verb} --dev")
        }
        Destination::Group(group) | Destination::Extra(group) => {
            format!("pipenv {verb} --categories {}", quote(group))
        }
    }
}

fn quote(argument: &str) -> String {
    crate::redact::quote(argument).into_owned()
}

fn command(program: &str, arguments: &[&str]) -> Option<String> {
    if arguments.is_empty() {
        return None;
    }
    let quoted: Vec<String> = arguments
        .iter()
        .map(|argument| crate::redact::quote(argument).into_owned())
        .collect();
    Some(format!("{program} {}", quoted.join(" ")))
}

/// The problem lines for stdout (text mode).
pub(crate) fn problem_lines(report: &CheckReport) -> String {
    let mut text = String::new();
    for problem in &report.problems {
        let line = match (&problem.kind, &problem.requirement) {
            (ProblemKind::Missing, Some(requirement)) => {
                format!(
                    "{}: {requirement} ({})",
                    problem.kind.label(),
                    problem.reason
                )
            }
            _ => format!("{}: {}", problem.kind.label(), problem.reason),
        };
        text.push_str(&line);
        text.push('\n');
    }
    text
}

/// The summary and fix commands for stderr (text mode).
pub(crate) fn summary(report: &CheckReport, installer: &FixTool, subject: Subject) -> String {
    let kept: String = report
        .kept
        .iter()
        .map(|kept| {
            format!(
                "note: {} is not stale: {} requires it\n",
                kept.name,
                kept.required_by.join(", ")
            )
        })
        .collect();
    format!("{kept}{}", verdict(report, installer, subject))
}

fn verdict(report: &CheckReport, installer: &FixTool, subject: Subject) -> String {
    if report.passed() {
        let (noun, be, versions) = match report.checked {
            1 => ("instrumentation", "is", "version"),
            _ => ("instrumentations", "are", "versions"),
        };
        return format!(
            "check passed: the {} recommended {noun} of release {} {be} {} at the recommended {versions}\n",
            report.checked,
            report.release,
            subject.verb()
        );
    }
    let count = |kind| {
        report
            .problems
            .iter()
            .filter(|problem| problem.kind == kind)
            .count()
    };
    let mut inconsistent = match count(ProblemKind::Inconsistent) {
        0 => String::new(),
        1 => ", 1 unmet requirement of the OpenTelemetry stack".to_owned(),
        count => format!(", {count} unmet requirements of the OpenTelemetry stack"),
    };
    match count(ProblemKind::DoesNotLoad) {
        0 => {}
        1 => inconsistent.push_str(", 1 that does not load"),
        count => inconsistent.push_str(&format!(", {count} that do not load")),
    }
    let mut text = format!(
        "check failed: {} missing, {} at a wrong version, {} stale{inconsistent} (release {})\n",
        count(ProblemKind::Missing),
        count(ProblemKind::WrongVersion),
        count(ProblemKind::Stale),
        report.release
    );
    if let Some(install) = installer.install_command(&report.to_install()) {
        text.push_str(&format!("fix: {install}\n"));
    }
    if let Some(remove) = installer.remove_command(&report.to_remove()) {
        text.push_str(&format!("fix: {remove}\n"));
    }
    text
}

/// The `--format json` document.
#[derive(Debug, Serialize)]
pub(crate) struct CheckDocument<'a> {
    pub(crate) version: u32,
    pub(crate) tool: &'static str,
    pub(crate) subject: Subject,
    pub(crate) passed: bool,
    #[serde(flatten)]
    pub(crate) report: &'a CheckReport,
    /// The commands that fix the problems, in order.
    pub(crate) fix: Vec<String>,
    pub(crate) warnings: &'a [Warning],
}

/// Writes the check's output (the problem lines, or the JSON document) and, in text, says
/// the summary through `printer`; returns whether the check passed (the job exits 1 when
/// not). A closed stdout still ends with the check's verdict.
pub(crate) fn report(
    report: &CheckReport,
    installer: &FixTool,
    subject: Subject,
    format: crate::output::Format,
    warnings: &[Warning],
    printer: crate::printer::Printer,
) -> anyhow::Result<bool> {
    crate::printer::finish_stdout(write(report, installer, subject, format, warnings).map(drop))?;
    if format == crate::output::Format::Text {
        for line in summary(report, installer, subject).lines() {
            printer.say(line);
        }
    }
    Ok(report.passed())
}

/// Writes the check's data to stdout and says whether it passed.
fn write(
    report: &CheckReport,
    installer: &FixTool,
    subject: Subject,
    format: crate::output::Format,
    warnings: &[Warning],
) -> io::Result<bool> {
    let mut stdout = io::stdout().lock();
    match format {
        crate::output::Format::Text => {
            stdout.write_all(problem_lines(report).as_bytes())?;
            stdout.flush()?;
        }
        crate::output::Format::Json => {
            let fix = installer
                .install_command(&report.to_install())
                .into_iter()
                .chain(installer.remove_command(&report.to_remove()))
                .collect();
            let document = CheckDocument {
                version: crate::output::JSON_VERSION,
                tool: crate::output::TOOL,
                subject,
                passed: report.passed(),
                report,
                fix,
                warnings,
            };
            serde_json::to_writer_pretty(&mut stdout, &document)?;
            writeln!(stdout)?;
            stdout.flush()?;
        }
    }
    Ok(report.passed())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{plan, PlanOptions};
    use crate::registry::Registry;
    use crate::requirement::PackageName;
    use crate::scan::InstalledDistribution;

    fn registry() -> Registry {
        let entry = |name: &str, kind: &str, instruments: &str| {
            format!(
                r#"{{"name": "opentelemetry-instrumentation-{name}", "requirement": "opentelemetry-instrumentation-{name}==1.0b0", "kind": "{kind}", "published": true, "instruments": [{instruments}], "instruments_any": []}}"#
            )
        };
        let entries = [
            entry("asyncio", "default", ""),
            entry("flask", "library", r#""flask>=1.0""#),
            entry("redis", "library", r#""redis>=2.6""#),
            entry("sqlalchemy", "library", r#""sqlalchemy<2.1.0,>=1.0.0""#),
            entry("aws-lambda", "opt-in", ""),
        ];
        let text = format!(
            r#"{{"schema": 1, "release": "1.0b0", "core": [{{"name": "opentelemetry-instrumentation", "version": "1.0b0", "published": true}}], "instrumentations": [{}]}}"#,
            entries.join(",")
        );
        Registry::from_texts(&[("1.0b0.json", &text)]).unwrap()
    }

    fn installed(distributions: &[(&str, &str)]) -> Installed {
        Installed::from_distributions(distributions.iter().map(|(name, version)| {
            InstalledDistribution {
                name: PackageName::new((*name).to_owned()).unwrap(),
                raw_version: (*version).to_owned(),
                version: crate::requirement::parse_version(version),
                path: format!("/site/{name}-{version}.dist-info").into(),
            }
        }))
    }

    fn run_check(distributions: &[(&str, &str)], exclude: &[&str]) -> CheckReport {
        let registry = registry();
        let installed = installed(distributions);
        let options = PlanOptions {
            exclude: exclude.iter().map(|name| (*name).to_owned()).collect(),
            ..PlanOptions::default()
        };
        let planned = plan(&registry, &installed, &options).unwrap();
        let release = registry.load(&"1.0b0".parse().unwrap()).unwrap();
        check(
            &planned,
            release,
            &installed,
            &options.exclude,
            Subject::Environment,
        )
    }

    #[test]
    fn passes_when_everything_is_in_place() {
        let report = run_check(
            &[
                ("flask", "3.0.0"),
                ("opentelemetry-instrumentation-asyncio", "1.0b0"),
                ("opentelemetry-instrumentation-flask", "1.0b0"),
                ("opentelemetry-instrumentation-aws-lambda", "1.0b0"),
            ],
            &[],
        );
        assert!(report.passed(), "{report:?}");
        assert_eq!(report.checked, 2);
    }

    #[test]
    fn finds_missing_wrong_and_stale() {
        let report = run_check(
            &[
                ("flask", "3.0.0"),
                ("sqlalchemy", "2.1.0"),
                ("opentelemetry-instrumentation-asyncio", "0.9b0"),
                ("opentelemetry-instrumentation-redis", "1.0b0"),
                ("opentelemetry-instrumentation-sqlalchemy", "1.0b0"),
            ],
            &[],
        );
        assert_eq!(
            problem_lines(&report),
            "\
missing: opentelemetry-instrumentation-flask==1.0b0 (flask 3.0.0 is installed)
wrong-version: opentelemetry-instrumentation-asyncio 0.9b0 is installed, the plan wants `opentelemetry-instrumentation-asyncio==1.0b0`
stale: opentelemetry-instrumentation-redis is installed, but none of its libraries (redis) is
stale: opentelemetry-instrumentation-sqlalchemy is installed, but sqlalchemy 2.1.0 is outside `sqlalchemy<2.1.0,>=1.0.0`
"
        );
        assert_eq!(
            summary(
                &report,
                &FixTool::Uv {
                    into: Destination::Main
                },
                Subject::Environment
            ),
            "\
check failed: 1 missing, 1 at a wrong version, 2 stale (release 1.0b0)
fix: uv add opentelemetry-instrumentation-flask==1.0b0 opentelemetry-instrumentation-asyncio==1.0b0
fix: uv remove opentelemetry-instrumentation-redis opentelemetry-instrumentation-sqlalchemy
"
        );
    }

    #[test]
    fn excluded_instrumentations_are_ignored() {
        let report = run_check(
            &[
                ("flask", "3.0.0"),
                ("opentelemetry-instrumentation-asyncio", "1.0b0"),
                ("opentelemetry-instrumentation-flask", "1.0b0"),
            ],
            &["flask"],
        );
        assert!(report.passed(), "{report:?}");
    }

    #[test]
    fn a_pdm_group_that_is_an_extra_gets_pdm_add_g() {
        use crate::lockfile::{FileFormat, GroupSelection};
        let directory = tempfile::tempdir().unwrap();
        std::fs::write(
            directory.path().join("pyproject.toml"),
            "[project]\nname = \"app\"\n[project.optional-dependencies]\nweb = [\"flask\"]\n[tool.pdm.dev-dependencies]\nlint = [\"ruff\"]\n",
        )
        .unwrap();
        let lock = directory.path().join("pdm.lock");
        let fix = |group: &str| {
            let selection = GroupSelection {
                groups: vec![group.to_owned()],
                ..GroupSelection::default()
            };
            let tool = FixTool::for_lockfile(FileFormat::PdmLock, &lock, &selection).unwrap();
            let tool = match tool {
                FixTool::In { tool, .. } => *tool,
                other => other,
            };
            tool.install_command(&["a==1"]).unwrap()
        };
        assert_eq!(fix("web"), "pdm add -G web a==1");
        assert_eq!(fix("lint"), "pdm add -dG lint a==1");
    }

    #[test]
    fn a_pip_tools_fix_for_an_environment_compiles_and_syncs() {
        let project = FixTool::PipTools {
            input: "/app/requirements.in".to_owned(),
            sync: None,
        };
        assert_eq!(
            project.install_command(&["a==1"]).unwrap(),
            "add a==1 to `/app/requirements.in`, then `pip-compile /app/requirements.in`"
        );
        let environment = FixTool::PipTools {
            input: "/app/requirements.in".to_owned(),
            sync: Some("/app/.venv/bin/python".to_owned()),
        };
        assert_eq!(
            environment.remove_command(&["b"]).unwrap(),
            "remove b from `/app/requirements.in`, then `pip-compile /app/requirements.in` and \
             `pip-sync --python-executable /app/.venv/bin/python /app/requirements.txt`"
        );
    }

    #[test]
    fn fixes_speak_the_project_tool() {
        use crate::lockfile::{FileFormat, GroupSelection};
        let directory = tempfile::tempdir().unwrap();
        let requirements = directory.path().join("requirements.txt");
        let fix = |format, path: &Path, selection: GroupSelection| {
            FixTool::for_lockfile(format, path, &selection)
                .map(|tool| tool.install_command(&["a==1"]).unwrap_or_default())
        };
        let extra = |name: &str| GroupSelection {
            extras: vec![name.to_owned()],
            ..GroupSelection::default()
        };
        let group = |name: &str| GroupSelection {
            groups: vec![name.to_owned()],
            ..GroupSelection::default()
        };
        let lock = Path::new("x.lock");
        for (format, path, selection, expected) in [
            (
                FileFormat::UvLock,
                lock,
                GroupSelection::default(),
                "uv add a==1",
            ),
            (
                FileFormat::UvLock,
                lock,
                extra("web"),
                "uv add --optional web a==1",
            ),
            (
                FileFormat::UvLock,
                lock,
                group("otel"),
                "uv add --group otel a==1",
            ),
            (
                FileFormat::PoetryLock,
                lock,
                group("otel"),
                "poetry add --group otel a==1",
            ),
            (
                FileFormat::PdmLock,
                lock,
                extra("web"),
                "pdm add -G web a==1",
            ),
            (
                FileFormat::PdmLock,
                lock,
                group("dev"),
                "pdm add -dG dev a==1",
            ),
            (
                FileFormat::PipfileLock,
                lock,
                GroupSelection::default(),
                "pipenv install a==1",
            ),
            (
                FileFormat::PipfileLock,
                lock,
                GroupSelection {
                    dev: true,
                    ..GroupSelection::default()
                },
                "pipenv install --dev a==1",
            ),
            (
                FileFormat::PipfileLock,
                lock,
                group("docs"),
                "pipenv install --categories docs a==1",
            ),
            (
                FileFormat::Requirements,
                &requirements,
                GroupSelection::default(),
                &*format!(
                    "add a==1 to `{}`, one per line (replacing any line of the same name)",
                    requirements.display()
                ),
            ),
        ] {
            assert_eq!(fix(format, path, selection).as_deref(), Some(expected));
        }
        std::fs::write(directory.path().join("requirements.in"), "flask\n").unwrap();
        let input = directory
            .path()
            .join("requirements.in")
            .display()
            .to_string();
        assert_eq!(
            fix(
                FileFormat::Requirements,
                &requirements,
                GroupSelection::default()
            )
            .unwrap(),
            format!("add a==1 to `{input}`, then `pip-compile {input}`")
        );
        // pylock.toml cannot be edited by a fix: the requirements go into the project and
        // the lock is exported again.
        assert_eq!(
            fix(FileFormat::Pylock, lock, GroupSelection::default()).unwrap(),
            format!("add a==1 to the project's requirements, then export `{}` again (`uv export --format pylock.toml -o {}`, or `pip lock`)", lock.display(), lock.display())
        );
    }

    #[test]
    fn commands_quote_what_a_shell_would_read() {
        assert_eq!(
            FixTool::Pip.install_command(&["a==1", "b>=2.0b0"]).unwrap(),
            "pip install a==1 'b>=2.0b0'"
        );
        assert_eq!(FixTool::Pip.remove_command(&[]), None);
        assert_eq!(crate::redact::quote("it's"), r"'it'\''s'");
    }
}
