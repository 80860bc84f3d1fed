//! The command line: raw flags as clap parses them. `commands` turns them into settings.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::output::Format;

const AFTER_HELP: &str = "\
Examples:
  otel-bootstrap                          List the instrumentations for the active environment
  otel-bootstrap | uv add -r -            Record them in a uv project
  otel-bootstrap --python .venv           Look at another environment
  otel-bootstrap --format json            Explain every decision, for scripts
  otel-bootstrap registry list            Show the bundled releases

The environment is, in this order: --site-packages, --python, $VIRTUAL_ENV,
$CONDA_PREFIX, the nearest .venv from the current directory up, then python3/python
on PATH.

Exit status: 0 success, 1 a problem was found, 2 an error.";

/// Recommends the OpenTelemetry instrumentation packages for the libraries installed in
/// a Python environment: a fast, correct drop-in for `opentelemetry-bootstrap`.
#[derive(Debug, Parser)]
#[command(
    name = "otel-bootstrap",
    disable_version_flag = true,
    after_help = AFTER_HELP,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub bootstrap: BootstrapArgs,

    /// Print the version and the bundled registry releases.
    #[arg(short = 'V', long, global = true)]
    pub version: bool,

    /// Only print errors (no warnings).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Explain each decision on stderr.
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

/// `-a/--action`, as upstream spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Action {
    /// Print the requirements on stdout, one per line.
    Requirements,
    /// Install the requirements into the environment.
    Install,
}

/// The flags of the main job.
#[derive(Debug, Args)]
pub struct BootstrapArgs {
    /// What to do with the recommendations.
    #[arg(short, long, value_enum, default_value_t = Action::Requirements)]
    pub action: Action,

    /// Scan this site-packages directory (repeatable; no interpreter needed).
    #[arg(long = "site-packages", value_name = "DIR", conflicts_with = "python")]
    pub site_packages: Vec<PathBuf>,

    /// The Python interpreter, or environment directory (venv or conda prefix), to look at.
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,

    /// Use this OpenTelemetry release instead of the installed one (e.g. 0.66b1).
    #[arg(long = "otel-version", value_name = "VERSION")]
    pub otel_version: Option<String>,

    /// Use this registry (a release file or a directory of them) instead of the bundled one.
    #[arg(long, value_name = "PATH")]
    pub registry: Option<PathBuf>,

    /// Never recommend this instrumentation (`flask` or `opentelemetry-instrumentation-flask`; repeatable).
    #[arg(long, value_name = "NAME")]
    pub exclude: Vec<String>,

    /// Recommend this opt-in instrumentation, e.g. `aws-lambda` (repeatable).
    #[arg(long, value_name = "NAME")]
    pub include: Vec<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Inspect or rebuild the registry of instrumentations.
    #[command(subcommand)]
    Registry(RegistryCommand),
}

#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// List the releases in the registry, marking the partial ones.
    List {
        /// Use this registry instead of the bundled one.
        #[arg(long, value_name = "PATH")]
        registry: Option<PathBuf>,
    },
    /// Show one release (default: the newest) as a table, or as JSON.
    Show {
        /// The release, e.g. 0.66b1.
        release: Option<String>,
        /// Use this registry instead of the bundled one.
        #[arg(long, value_name = "PATH")]
        registry: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Rebuild the registry files from a package index.
    Update {
        /// The index (simple API). Default: $UV_INDEX_URL, $PIP_INDEX_URL, else PyPI.
        #[arg(long, value_name = "URL")]
        index_url: Option<String>,
        /// Where to write the release files.
        #[arg(long, value_name = "DIR", default_value = "data/releases")]
        output: PathBuf,
        /// The oldest release to include.
        #[arg(long, value_name = "VERSION", default_value = "0.41b0")]
        from_release: String,
        /// Where to cache downloaded metadata (default: the user cache directory).
        #[arg(long, value_name = "DIR")]
        cache_dir: Option<PathBuf>,
    },
}
