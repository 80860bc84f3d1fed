//! `otel-bootstrap explain`: the plan as a report a person reads, one row per library,
//! with the instrumentation's status, why, and the one command that installs what is
//! missing; `--format json` gives the same rows as data.
//!
//! Built from the same pipeline as every other job ([`crate::commands::plan_environment`]),
//! plus the environment's dependency graph ([`relevance`]) and every bundled release
//! ([`advice`]). [`table`] renders the text.

pub(crate) mod advice;
pub(crate) mod relevance;
pub(crate) mod table;

use std::io::{self, Write};

use serde::Serialize;

use crate::check::{self, FixTool, ProblemKind, Subject};
use crate::diagnostics::Warning;
use crate::graph::Graph;
use crate::plan::{Plan, PlanOptions, Reason, SkipReason};
use crate::registry::{Registry, Release};
use crate::requirement::PlainRequirement;
use crate::scan::Installed;

pub(crate) use relevance::{Covers, Need, Relevance};

/// What a row says about its instrumentation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub(crate) enum Status {
    /// Recommended and not installed yet.
    Recommended,
    /// Recommended and installed at the recommended version.
    Installed,
    /// Recommended, installed at another version.
    WrongVersion { installed: String },
    /// Recommended, but another recommendation covers it (`--only-needed` leaves it out).
    Covered { by: String, reason: String },
    /// Recommended, but only OpenTelemetry packages require its library (`--only-needed`
    /// leaves it out).
    OnlyRequiredBy {
        required_by: Vec<String>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        through: Vec<String>,
    },
    /// The library is installed outside the instrumentation's range.
    OutOfRange {
        requirement: String,
        advice: advice::Advice,
    },
    /// The library's version is not PEP 440.
    InvalidVersion,
    /// The instrumentation also needs another library, which is not installed.
    Missing {
        library: String,
        requirement: String,
    },
    /// Removed with `--exclude`.
    Excluded,
    /// Left out of bootstrap upstream; `--include` recommends it.
    OptIn,
    /// Listed by the release, never published.
    NeverPublished,
    /// Its own `Requires-Python` leaves out the target's Python.
    UnsupportedPython {
        requires_python: String,
        python: String,
    },
    /// The instrumentation is installed, but the plan does not recommend it.
    Stale { reason: String },
    /// Another instrumentation of the same library wins ("one instrumentation per
    /// library", `data/genai/choices.json`).
    Replaced { by: String, reason: String },
    /// A GenAI family package with no version that goes with the environment's core.
    NoCompatibleVersion { reason: String },
}

impl Status {
    /// The status in a few words, for the table.
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::Recommended => "recommended, not installed".to_owned(),
            Self::Installed => "installed".to_owned(),
            Self::WrongVersion { installed } => format!("wrong version ({installed} installed)"),
            Self::Covered { by, .. } => format!("covered by {}", short(by)),
            Self::OnlyRequiredBy {
                required_by,
                through,
            } => {
                let mut text = format!("only required by {}", required_by.join(", "));
                if !through.is_empty() {
                    text.push_str(&format!(" (through {})", through.join(", ")));
                }
                text
            }
            Self::OutOfRange {
                requirement,
                advice,
            } => format!("out of range (supports {requirement}); {}", advice.message),
            Self::InvalidVersion => "not a PEP 440 version".to_owned(),
            Self::Missing {
                library,
                requirement,
            } => format!("missing: also needs {library} (`{requirement}`)"),
            Self::Excluded => "excluded (--exclude)".to_owned(),
            Self::OptIn => "opt-in (--include to add it)".to_owned(),
            Self::NeverPublished => "never published".to_owned(),
            Self::UnsupportedPython {
                requires_python,
                python,
            } => format!("needs Python {requires_python} (target: {python})"),
            Self::Stale { reason } => format!("stale: {reason}"),
            Self::Replaced { by, .. } => format!("replaced by {} (one per library)", short(by)),
            Self::NoCompatibleVersion { reason } => format!("no version for this core: {reason}"),
        }
    }

    /// Whether the row is something to act on, for color.
    pub(crate) fn tone(&self) -> Tone {
        match self {
            Self::Installed => Tone::Good,
            Self::Recommended | Self::WrongVersion { .. } | Self::Stale { .. } => Tone::Act,
            Self::OutOfRange { .. } | Self::InvalidVersion | Self::NoCompatibleVersion { .. } => {
                Tone::Problem
            }
            _ => Tone::Quiet,
        }
    }
}

/// How a status is colored on a terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tone {
    Good,
    Act,
    Problem,
    Quiet,
}

/// `flask` for `opentelemetry-instrumentation-flask`.
pub(crate) fn short(name: &str) -> &str {
    name.strip_prefix("opentelemetry-instrumentation-")
        .unwrap_or(name)
}

/// One row: a library (absent for the default instrumentations, which instrument the
/// standard library) and one instrumentation of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Row {
    pub(crate) library: Option<String>,
    /// The library's installed version.
    pub(crate) version: Option<String>,
    pub(crate) instrumentation: String,
    /// The requirement the release lists for the instrumentation.
    pub(crate) requirement: String,
    /// The instrumentation's installed version, if installed.
    pub(crate) installed: Option<String>,
    pub(crate) status: Status,
    /// For recommendations: what the graph and the covers table say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) relevance: Option<Relevance>,
    /// For a GenAI family package: why this version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) why: Option<String>,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Explanation {
    pub(crate) release: String,
    pub(crate) rows: Vec<Row>,
    /// The command that installs what is missing (and moves what must move with it).
    pub(crate) install: Option<String>,
    /// The command that removes stale instrumentations.
    pub(crate) remove: Option<String>,
    /// Instrumentations older than the newest complete release (information only).
    pub(crate) outdated: Vec<advice::Outdated>,
    /// Whether the rows and commands leave out covered and telemetry-only ones.
    pub(crate) only_needed: bool,
    /// Whether `install` and `remove` are shell commands (else sentences: edit a file, then
    /// run its tool), as [`crate::check::FixTool::is_command`] says; for the table's layout.
    #[serde(skip)]
    pub(crate) fixes_are_commands: bool,
}

/// Everything [`explain`] reads.
pub(crate) struct Inputs<'a> {
    pub(crate) registry: &'a Registry,
    pub(crate) release: &'a Release,
    pub(crate) plan: &'a Plan,
    pub(crate) installed: &'a Installed,
    pub(crate) graph: &'a Graph,
    pub(crate) options: &'a PlanOptions,
    pub(crate) covers: &'a Covers,
    pub(crate) installer: FixTool,
    pub(crate) only_needed: bool,
    /// The flags a suggested command repeats so that it plans the same environment the
    /// same way (` --python '/x/venv' --exclude flask`).
    pub(crate) rerun: &'a str,
}

/// Builds the report.
pub(crate) fn explain(inputs: &Inputs<'_>) -> Explanation {
    let plan = inputs.plan;
    let relevances = relevance::relevance(plan, inputs.graph, inputs.covers);
    let mut report = check::check(
        plan,
        inputs.release,
        inputs.installed,
        &inputs.options.exclude,
        Subject::Environment,
    );
    check::check_graph(&mut report, plan, inputs.graph);

    let installed_version = |name: &str| {
        crate::requirement::parse_name(name)
            .and_then(|parsed| inputs.installed.get(&parsed))
            .map(|distribution| distribution.raw_version.clone())
    };
    let mut rows = Vec::new();
    let mut defaults = Vec::new();
    let mut left_out = Vec::new();
    for (recommendation, relevance) in plan.recommendations.iter().zip(&relevances) {
        let installed = installed_version(&recommendation.name);
        let problem = report.problems.iter().find(|problem| {
            problem.name == recommendation.name
                && matches!(
                    problem.kind,
                    ProblemKind::Missing | ProblemKind::WrongVersion
                )
        });
        let mut status = match problem.map(|problem| problem.kind) {
            Some(ProblemKind::Missing) => Status::Recommended,
            Some(ProblemKind::WrongVersion) => Status::WrongVersion {
                installed: installed.clone().unwrap_or_default(),
            },
            _ => Status::Installed,
        };
        if let Some(covered) = &relevance.covered_by {
            status = Status::Covered {
                by: covered.instrumentation.clone(),
                reason: covered.reason.clone(),
            };
        } else if relevance.need == Need::TelemetryStack {
            let mut required_by = Vec::new();
            let mut through = Vec::new();
            for library in &relevance.libraries {
                for root in &library.telemetry {
                    if !required_by.contains(root) {
                        required_by.push(root.clone());
                    }
                }
                for requirer in &library.required_by {
                    if !library.telemetry.contains(requirer) && !through.contains(requirer) {
                        through.push(requirer.clone());
                    }
                }
            }
            status = Status::OnlyRequiredBy {
                required_by,
                through,
            };
        }
        if !relevance.needed {
            left_out.push(recommendation.name.clone());
            if inputs.only_needed {
                continue;
            }
        }
        let row = |library: Option<(&str, &str)>| Row {
            library: library.map(|(name, _)| name.to_owned()),
            version: library.map(|(_, version)| version.to_owned()),
            instrumentation: recommendation.name.clone(),
            requirement: recommendation.requirement.clone(),
            installed: installed.clone(),
            status: status.clone(),
            relevance: Some(relevance.clone()),
            why: recommendation
                .genai
                .as_ref()
                .map(|choice| choice.why.clone()),
        };
        match &recommendation.reason {
            Reason::Default => defaults.push(row(None)),
            Reason::Libraries { satisfied_by } | Reason::Included { satisfied_by } => {
                if satisfied_by.is_empty() {
                    rows.push(row(None));
                }
                for library in satisfied_by {
                    rows.push(row(Some((&library.name, &library.version))));
                }
            }
        }
    }

    for skipped in &plan.skipped {
        let installed = installed_version(&skipped.name);
        let entry = inputs.release.find(&skipped.name);
        // A GenAI family package: the libraries of any of its versions.
        let family: Vec<&PlainRequirement> = inputs
            .options
            .genai
            .as_deref()
            .and_then(|genai| genai.find(&skipped.name))
            .into_iter()
            .flat_map(|package| {
                package
                    .versions
                    .iter()
                    .flat_map(|version| &version.instruments)
            })
            .collect();
        let mut family_names = std::collections::HashSet::new();
        let family = family
            .into_iter()
            .filter(|requirement| family_names.insert(requirement.name.clone()));
        // The libraries of this instrumentation that are installed.
        let present: Vec<(String, String)> = entry
            .into_iter()
            .flat_map(|entry| entry.instruments.iter().chain(&entry.instruments_any))
            .chain(family)
            .filter_map(|requirement| inputs.installed.get(&requirement.name))
            .map(|distribution| {
                (
                    distribution.name.to_string(),
                    distribution.raw_version.clone(),
                )
            })
            .collect();
        let row = |library: Option<(String, String)>, status: Status| Row {
            library: library.as_ref().map(|(name, _)| name.clone()),
            version: library.map(|(_, version)| version),
            instrumentation: skipped.name.clone(),
            requirement: skipped.requirement.clone(),
            installed: installed.clone(),
            status,
            relevance: None,
            why: None,
        };
        for reason in &skipped.reasons {
            match reason {
                SkipReason::OutOfRange {
                    library,
                    installed: version,
                    requirement,
                } => {
                    let advice = advice::out_of_range(
                        inputs.registry,
                        plan,
                        inputs.installed,
                        inputs.options,
                        &advice::OutOfRange {
                            instrumentation: &skipped.name,
                            library,
                            installed: version,
                        },
                        inputs.rerun,
                    );
                    let range = PlainRequirement::parse(requirement)
                        .map(|parsed| parsed.range_text())
                        .unwrap_or_else(|_| requirement.clone());
                    rows.push(row(
                        Some((library.clone(), version.clone())),
                        Status::OutOfRange {
                            requirement: range,
                            advice,
                        },
                    ));
                }
                SkipReason::InvalidVersion {
                    library,
                    installed: version,
                } => rows.push(row(
                    Some((library.clone(), version.clone())),
                    Status::InvalidVersion,
                )),
                SkipReason::MissingLibrary {
                    library,
                    requirement,
                } => {
                    let status = Status::Missing {
                        library: library.clone(),
                        requirement: requirement.clone(),
                    };
                    if present.is_empty() {
                        rows.push(row(None, status.clone()));
                    }
                    for library in &present {
                        rows.push(row(Some(library.clone()), status.clone()));
                    }
                }
                SkipReason::Excluded
                | SkipReason::OptIn
                | SkipReason::NeverPublished
                | SkipReason::Replaced { .. }
                | SkipReason::NoCompatibleVersion { .. }
                | SkipReason::UnsupportedPython { .. } => {
                    let status = match reason {
                        SkipReason::Excluded => Status::Excluded,
                        SkipReason::OptIn => Status::OptIn,
                        SkipReason::Replaced { by, reason } => Status::Replaced {
                            by: by.clone(),
                            reason: reason.clone(),
                        },
                        SkipReason::NoCompatibleVersion { reason } => Status::NoCompatibleVersion {
                            reason: reason.clone(),
                        },
                        SkipReason::UnsupportedPython {
                            requires_python,
                            python,
                        } => Status::UnsupportedPython {
                            requires_python: requires_python.clone(),
                            python: python.clone(),
                        },
                        _ => Status::NeverPublished,
                    };
                    if present.is_empty() {
                        rows.push(row(None, status.clone()));
                    }
                    for library in &present {
                        rows.push(row(Some(library.clone()), status.clone()));
                    }
                }
            }
        }
    }

    for problem in &report.problems {
        if problem.kind != ProblemKind::Stale {
            continue;
        }
        let requirement = inputs
            .release
            .find(&problem.name)
            .map(|entry| entry.requirement.raw.clone())
            .unwrap_or_else(|| problem.name.clone());
        // The skipped rows already say why when its library is present.
        if rows.iter().any(|row| row.instrumentation == problem.name) {
            for row in rows
                .iter_mut()
                .filter(|row| row.instrumentation == problem.name)
            {
                row.installed = problem.installed.clone();
            }
            continue;
        }
        rows.push(Row {
            library: None,
            version: None,
            instrumentation: problem.name.clone(),
            requirement,
            installed: problem.installed.clone(),
            status: Status::Stale {
                reason: "installed, but none of its libraries is".to_owned(),
            },
            relevance: None,
            why: None,
        });
    }

    // Libraries in name order (then the instrumentation), the standard library last.
    rows.sort_by(|left, right| {
        (left.library.is_none(), &left.library, &left.instrumentation).cmp(&(
            right.library.is_none(),
            &right.library,
            &right.instrumentation,
        ))
    });
    rows.extend(defaults);

    let to_install: Vec<&str> = report
        .to_install()
        .into_iter()
        .filter(|requirement| {
            !inputs.only_needed
                || PlainRequirement::parse(requirement).map_or(true, |parsed| {
                    !left_out.iter().any(|name| parsed.name.as_ref() == name)
                })
        })
        .collect();
    // Outdated is information beyond the plan: what the rows already call a wrong version
    // is not repeated.
    let outdated = advice::outdated(
        inputs.registry,
        inputs.installed,
        inputs.plan.python.as_ref(),
    )
    .unwrap_or_default()
    .into_iter()
    .filter(|entry| {
        !rows.iter().any(|row| {
            row.instrumentation == entry.name && matches!(row.status, Status::WrongVersion { .. })
        })
    })
    .collect();
    Explanation {
        release: plan.release.clone(),
        rows,
        install: inputs.installer.install_command(&to_install),
        remove: inputs.installer.remove_command(&report.to_remove()),
        outdated,
        only_needed: inputs.only_needed,
        fixes_are_commands: inputs.installer.is_command(),
    }
}

/// The `explain --format json` document.
#[derive(Debug, Serialize)]
pub(crate) struct Document<'a> {
    pub(crate) version: u32,
    pub(crate) tool: &'static str,
    pub(crate) environment: &'a crate::environment::Environment,
    pub(crate) registry: crate::output::RegistryReport<'a>,
    #[serde(flatten)]
    pub(crate) explanation: &'a Explanation,
    pub(crate) warnings: &'a [Warning],
}

/// Writes the JSON document.
pub(crate) fn write_json(document: &Document<'_>, writer: &mut impl Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *writer, document)?;
    writeln!(writer)?;
    writer.flush()
}

/// `--only-needed`: removes from `plan` (and from the parallel `relevance`) the
/// recommendations that are covered or serve only the telemetry stack, and returns one line
/// per recommendation left out, saying why (the job shows them with `-v`).
pub(crate) fn leave_out_unneeded(plan: &mut Plan, relevance: &mut Vec<Relevance>) -> Vec<String> {
    let mut kept_plan = Vec::with_capacity(plan.recommendations.len());
    let mut kept_relevance = Vec::with_capacity(relevance.len());
    let mut left_out = Vec::new();
    for (recommendation, found) in plan.recommendations.drain(..).zip(relevance.drain(..)) {
        if found.needed {
            kept_plan.push(recommendation);
            kept_relevance.push(found);
            continue;
        }
        let why = match &found.covered_by {
            Some(covered) => format!("covered by {}", covered.instrumentation),
            None => relevance::describe_telemetry(&found).unwrap_or_default(),
        };
        left_out.push(format!(
            "  - {}: left out by --only-needed: {why}",
            recommendation.requirement
        ));
    }
    plan.recommendations = kept_plan;
    *relevance = kept_relevance;
    left_out
}
