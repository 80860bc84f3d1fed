//! `otel-bootstrap`: recommends (and installs) the OpenTelemetry instrumentation packages
//! for the libraries installed in a Python environment.
//!
//! The pipeline, one module each: [`environment`] finds the environment, [`scan`] reads
//! its site-packages, [`registry`] knows every release's instrumentations, [`plan`] decides
//! (pure), and [`output`] prints. [`jobs`] wire them to the command line ([`cli`]).

pub mod check;
pub mod cli;
pub mod completions;
pub mod diagnostics;
pub mod environment;
pub mod error;
pub mod explain;
#[doc(hidden)]
pub mod fuzzing;
pub mod graph;
pub mod index;
pub mod install;
pub mod interpreter;
pub mod jobs;
pub mod lockfile;
pub mod output;
pub mod overlay;
pub mod plan;
pub mod printer;
pub mod project;
pub mod python_request;
pub mod redact;
pub mod registry;
pub mod requirement;
pub mod sanitize;
pub mod scan;
pub mod settings;
pub mod untrusted;
