//! Warnings collected along the pipeline: typed, so the JSON document can carry a stable
//! `kind`, and rendered on stderr as `warning: …` unless `-q` is given.

use std::fmt;

/// What a warning is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WarningKind {
    /// A site-packages directory or entry could not be read.
    Unreadable,
    /// A distribution's metadata is missing or lacks `Name` / `Version`.
    BrokenDistribution,
    /// An installed version is not a PEP 440 version.
    InvalidVersion,
    /// The same project appears twice in one directory.
    DuplicateDistribution,
    /// A folder name and the metadata inside it name different projects.
    NameMismatch,
    /// A library is installed at a version the instrumentation does not support.
    OutOfRange,
    /// The registry release had to be chosen differently from what was asked or installed.
    Release,
    /// A command-line value that had no effect.
    UnusedOption,
    /// No `opentelemetry-sdk`: the instrumentations would export nothing.
    NoTelemetry,
    /// The instrumentors could not be loaded to check them.
    LoadCheck,
    /// The environment is not the one of the project around it (Poetry, PDM, pipenv,
    /// Hatch): the project's tool would not see what is installed there.
    NotTheProjectEnvironment,
    /// A requirements file that may list only the application's direct dependencies:
    /// libraries those bring in are not seen.
    MaybeIncomplete,
}

/// One warning.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Warning {
    pub kind: WarningKind,
    pub message: String,
}

impl Warning {
    pub(crate) fn new(kind: WarningKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.message)
    }
}
