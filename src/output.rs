//! Rendering a plan: requirement lines (the default, what upstream prints) or a JSON
//! document. Stdout carries data only; warnings go to stderr elsewhere.

use std::io::{self, Write};

use serde::Serialize;

use crate::diagnostics::Warning;
use crate::environment::Environment;
use crate::plan::Plan;

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One requirement per line, in upstream order.
    Text,
    /// A JSON document with the environment, the release, reasons and warnings.
    Json,
}

/// The JSON document's schema version; bump it on incompatible changes.
pub(crate) const JSON_VERSION: u32 = 1;

/// The `tool` field of every JSON document.
pub(crate) const TOOL: &str = concat!("otel-bootstrap ", env!("CARGO_PKG_VERSION"));

/// The `--format json` document.
#[derive(Debug, Serialize)]
pub(crate) struct Report<'a> {
    pub(crate) version: u32,
    pub(crate) tool: &'static str,
    pub(crate) environment: &'a Environment,
    pub(crate) registry: RegistryReport<'a>,
    pub(crate) recommendations: Vec<RecommendationEntry<'a>>,
    pub(crate) skipped: &'a [crate::plan::Skipped],
    pub(crate) warnings: &'a [Warning],
}

/// One recommendation in the JSON document, with its relevance (from the dependency
/// graph and the covers table) when it was computed.
#[derive(Debug, Serialize)]
pub(crate) struct RecommendationEntry<'a> {
    #[serde(flatten)]
    pub(crate) recommendation: &'a crate::plan::Recommendation,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) relevance: Option<&'a crate::explain::relevance::Relevance>,
}

/// Pairs each recommendation with its relevance (`relevance` is empty or parallel).
pub(crate) fn with_relevance<'a>(
    recommendations: &'a [crate::plan::Recommendation],
    relevance: &'a [crate::explain::relevance::Relevance],
) -> Vec<RecommendationEntry<'a>> {
    recommendations
        .iter()
        .enumerate()
        .map(|(index, recommendation)| RecommendationEntry {
            recommendation,
            relevance: relevance.get(index),
        })
        .collect()
}

/// Which registry and release the plan used.
#[derive(Debug, Serialize)]
pub(crate) struct RegistryReport<'a> {
    /// `bundled`, or the path given with `--registry`.
    pub(crate) source: String,
    pub(crate) release: &'a str,
    pub(crate) choice: &'a crate::plan::ReleaseChoice,
    pub(crate) alignment: &'a Option<crate::plan::Alignment>,
}

/// Writes the requirement lines.
pub(crate) fn write_requirements(plan: &Plan, writer: &mut impl Write) -> io::Result<()> {
    for recommendation in &plan.recommendations {
        writeln!(writer, "{}", recommendation.requirement)?;
    }
    writer.flush()
}

/// Writes the JSON document (pretty, with a trailing newline).
pub(crate) fn write_json(report: &Report<'_>, writer: &mut impl Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *writer, report)?;
    writeln!(writer)?;
    writer.flush()
}
