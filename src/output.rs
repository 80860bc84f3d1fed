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
pub const JSON_VERSION: u32 = 1;

/// The `tool` field of every JSON document.
pub const TOOL: &str = concat!("otel-bootstrap ", env!("CARGO_PKG_VERSION"));

/// The `--format json` document.
#[derive(Debug, Serialize)]
pub struct Report<'a> {
    pub version: u32,
    pub tool: &'static str,
    pub environment: &'a Environment,
    pub registry: RegistryReport<'a>,
    pub recommendations: Vec<RecommendationEntry<'a>>,
    pub skipped: &'a [crate::plan::Skipped],
    pub warnings: &'a [Warning],
}

/// One recommendation in the JSON document, with its relevance (from the dependency
/// graph and the covers table) when it was computed.
#[derive(Debug, Serialize)]
pub struct RecommendationEntry<'a> {
    #[serde(flatten)]
    pub recommendation: &'a crate::plan::Recommendation,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relevance: Option<&'a crate::explain::relevance::Relevance>,
}

/// Pairs each recommendation with its relevance (`relevance` is empty or parallel).
pub fn with_relevance<'a>(
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
pub struct RegistryReport<'a> {
    /// `bundled`, or the path given with `--registry`.
    pub source: String,
    pub release: &'a str,
    pub choice: &'a crate::plan::ReleaseChoice,
    pub alignment: &'a Option<crate::plan::Alignment>,
}

/// Writes the requirement lines.
pub fn write_requirements(plan: &Plan, writer: &mut impl Write) -> io::Result<()> {
    for recommendation in &plan.recommendations {
        writeln!(writer, "{}", recommendation.requirement)?;
    }
    writer.flush()
}

/// Writes the JSON document (pretty, with a trailing newline).
pub fn write_json(report: &Report<'_>, writer: &mut impl Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *writer, report)?;
    writeln!(writer)?;
    writer.flush()
}
