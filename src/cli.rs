//! The command line: raw flags as clap parses them. [`crate::settings`] resolves them into
//! what the jobs (`crate::jobs`) take.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::install::installer::InstallerChoice;
use crate::output::Format;

pub const AFTER_HELP: &str = "\
Examples:
  otel-bootstrap                         List the instrumentations the active environment needs
  otel-bootstrap -a install              Install them (uv add in a uv project, else uv pip or pip)
  otel-bootstrap -a install --dry-run    Print the install command and change nothing
  otel-bootstrap | uv add -r -           Record them in a uv project's pyproject.toml and uv.lock
  otel-bootstrap --from uv.lock          Recommend from a lock file, without an environment
  otel-bootstrap --from requirements.txt > otel.txt
                                         Dockerfile: plan before installing, then install once
                                         with `pip install -r requirements.txt -r otel.txt`
  otel-bootstrap --from uv.lock --check  CI: exit 1 when the lock file lacks an instrumentation
  otel-bootstrap --check                 CI: the same for the installed environment
  otel-bootstrap --python .venv          Look at another environment
  otel-bootstrap --python 3.12           The project's or active environment if it is a
                                         3.12, else python3.12 on PATH, else uv's
  otel-bootstrap --format json           Explain every decision, for scripts
  otel-bootstrap explain                 A table: each library, its status and the fix
  otel-bootstrap registry list           Show the known releases and where each comes from
  otel-bootstrap registry update         Learn the releases published since this binary was
                                         built (into the user registry, read by every run)
  otel-bootstrap completions zsh         Print a shell completion script (see `completions -h`)

The environment is, in this order: --site-packages, --python, $VIRTUAL_ENV,
$CONDA_PREFIX, the nearest .venv from the current directory up, the venv otel-bootstrap
is installed in (`pip install otel-bootstrap-rs`; never a uvx/pipx tool environment),
then python3/python on PATH.

Colors: --color, or NO_COLOR=1 to turn them off.

Exit status: 0 success, 1 a problem was found, 2 an error.";

const COMPLETIONS_AFTER_HELP: &str = "\
Install the script where your shell looks for completions:
  bash        echo 'eval \"$(otel-bootstrap completions bash)\"' >> ~/.bashrc
  zsh         otel-bootstrap completions zsh > ~/.zfunc/_otel-bootstrap
              (and `fpath+=~/.zfunc` before `compinit` in ~/.zshrc)
  fish        otel-bootstrap completions fish > ~/.config/fish/completions/otel-bootstrap.fish
  powershell  otel-bootstrap completions powershell | Out-String | Invoke-Expression
              (in $PROFILE)
  elvish      otel-bootstrap completions elvish >> ~/.config/elvish/rc.elv";

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

    /// When to color help and messages: `auto` (a terminal, unless NO_COLOR is set),
    /// `always` or `never`.
    #[arg(
        long,
        value_name = "WHEN",
        value_enum,
        global = true,
        default_value_t = clap::ColorChoice::Auto
    )]
    pub color: clap::ColorChoice,
}

/// The `--color` value of a raw command line (with the program name first), read before
/// clap parses it so that help and usage errors are colored as asked. The last value wins,
/// as with clap; an invalid one is left for clap to report; nothing after `--` is a flag.
pub fn color_from_args<I, T>(args: I) -> clap::ColorChoice
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString>,
{
    let mut choice = clap::ColorChoice::Auto;
    let mut args = args.into_iter().map(Into::into).skip(1);
    while let Some(arg) = args.next() {
        let value = match arg.to_str() {
            Some("--") => break,
            Some("--color") => args.next(),
            Some(arg) => arg.strip_prefix("--color=").map(Into::into),
            None => None,
        };
        let parsed = value
            .as_ref()
            .and_then(|value| value.to_str())
            .and_then(|value| clap::ColorChoice::from_str(value, false).ok());
        if let Some(parsed) = parsed {
            choice = parsed;
        }
    }
    choice
}

/// `-a/--action`, as upstream spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Action {
    /// Print the requirements on stdout, one per line.
    Requirements,
    /// Install the requirements into the environment.
    Install,
}

/// Which environment, which release and which instrumentations: shared by the main job
/// and `explain`.
#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    /// Scan this site-packages directory (repeatable; no interpreter needed).
    #[arg(long = "site-packages", value_name = "DIR", conflicts_with = "python")]
    pub site_packages: Vec<PathBuf>,

    /// The Python to look at: an interpreter or environment directory (venv or conda
    /// prefix), or a request as uv reads it (`3.12`, `3.12.1`, `python3.12`,
    /// `cpython@3.12`, `>=3.11`), found in the active or project environment, then on
    /// PATH, then among uv-managed interpreters.
    #[arg(long, value_name = "PATH|REQUEST")]
    pub python: Option<PathBuf>,

    /// The project directory (uv, Poetry, PDM, pipenv, Hatch or pip-tools) whose
    /// environment to look at and, with `-a install`, where to record; default: the
    /// current directory and its parents.
    #[arg(long, value_name = "DIR")]
    pub project: Option<PathBuf>,

    /// Use this OpenTelemetry release instead of the installed one (e.g. 0.66b1).
    #[arg(long = "otel-version", value_name = "VERSION")]
    pub otel_version: Option<String>,

    /// Use this registry (a release file, a directory of them, or a vendor overlay)
    /// instead of the user and bundled ones.
    #[arg(long, value_name = "PATH")]
    pub registry: Option<PathBuf>,

    /// Never recommend this instrumentation (`flask` or `opentelemetry-instrumentation-flask`; repeatable).
    #[arg(long, value_name = "NAME")]
    pub exclude: Vec<String>,

    /// Recommend this opt-in instrumentation, e.g. `aws-lambda` (repeatable).
    #[arg(long, value_name = "NAME")]
    pub include: Vec<String>,
}

/// The flags of the main job.
#[derive(Debug, Args)]
pub struct BootstrapArgs {
    /// What to do with the recommendations.
    #[arg(short, long, value_enum, default_value_t = Action::Requirements)]
    pub action: Action,

    #[command(flatten)]
    pub target: TargetArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Recommend from a lock or requirements file instead of an environment: uv.lock,
    /// poetry.lock, pdm.lock, Pipfile.lock, pylock.toml or a requirements file
    /// (repeatable). A project directory or its pyproject.toml reads the first of those
    /// locks found in it.
    #[arg(long, value_name = "FILE")]
    pub from: Vec<PathBuf>,

    /// With --from: evaluate markers for this Python version (e.g. 3.12) instead of the
    /// environment's interpreter.
    #[arg(long = "python-version", value_name = "X.Y", requires = "from")]
    pub python_version: Option<String>,

    /// With --from: evaluate markers for this platform instead of the interpreter's.
    #[arg(long, value_enum, requires = "from")]
    pub platform: Option<crate::lockfile::marker::Platform>,

    /// With --from: leave out the `dev` dependency group (as `uv sync --no-dev`; every
    /// development group of a pdm.lock, as `pdm sync --prod`).
    #[arg(long = "no-dev", requires = "from")]
    pub no_dev: bool,

    /// With --from on a Pipfile.lock: also read the `develop` packages (as
    /// `pipenv sync --dev`).
    #[arg(long, requires = "from", conflicts_with = "no_dev")]
    pub dev: bool,

    /// With --from: also read this dependency group (repeatable, as `uv sync --group`,
    /// `pdm sync -G`, a Pipfile.lock category as `pipenv sync --categories`).
    /// With `-a install` in a project: record the instrumentations in this group (`uv add
    /// --group`, `poetry add --group`, `pdm add -dG`); default: where the project keeps
    /// `opentelemetry-distro`, else the main dependencies.
    #[arg(long, value_name = "NAME")]
    pub group: Vec<String>,

    /// Never use the network to learn a release the registry does not know, or the GenAI
    /// family (`-a install` otherwise learns them from the index it installs from).
    #[arg(long, conflicts_with = "refresh")]
    pub offline: bool,

    /// Learn the installed release from the index (--index-url, $UV_INDEX_URL,
    /// $PIP_INDEX_URL, else PyPI) when the registry does not know it, and cache it in the
    /// user registry; the GenAI family too when a release was just learned or a family
    /// package is at a version its data does not know. Without it only `-a install` uses
    /// the network.
    #[arg(long)]
    pub refresh: bool,

    /// With --from on a poetry.lock, pdm.lock or Pipfile.lock: also read this optional
    /// group (repeatable or comma-separated, as `poetry install --with`).
    #[arg(
        long = "with",
        value_name = "GROUP",
        requires = "from",
        value_delimiter = ','
    )]
    pub with_groups: Vec<String>,

    /// With --from on a poetry.lock, pdm.lock or Pipfile.lock: leave out this group (as
    /// `poetry install --without`).
    #[arg(
        long = "without",
        value_name = "GROUP",
        requires = "from",
        value_delimiter = ','
    )]
    pub without_groups: Vec<String>,

    /// With --from on a poetry.lock, pdm.lock or Pipfile.lock: read only these groups (as
    /// `poetry install --only`).
    #[arg(
        long = "only",
        value_name = "GROUP",
        requires = "from",
        value_delimiter = ','
    )]
    pub only_groups: Vec<String>,

    /// With --from: also read this extra of the project (repeatable, as `uv sync --extra`).
    #[arg(
        long,
        value_name = "NAME",
        requires = "from",
        conflicts_with = "all_extras"
    )]
    pub extra: Vec<String>,

    /// With --from: read every extra of the project (as `uv sync --all-extras`).
    #[arg(long = "all-extras", requires = "from")]
    pub all_extras: bool,

    /// With --from on a uv.lock: read this workspace member instead of the project (as
    /// `uv sync --package`).
    #[arg(
        long,
        value_name = "NAME",
        requires = "from",
        conflicts_with = "all_packages"
    )]
    pub package: Option<String>,

    /// With --from on a uv.lock: read every workspace member (as `uv sync --all-packages`).
    #[arg(long = "all-packages", requires = "from")]
    pub all_packages: bool,

    /// Exit 1, listing each problem and the command that fixes it, when a recommended
    /// instrumentation is missing, at another version, or installed without its library.
    #[arg(long)]
    pub check: bool,

    /// Do not load the installed instrumentors. After `-a install` and with `--check`,
    /// every installed `opentelemetry_instrumentor` entry point is loaded in the
    /// environment's interpreter (one run, bounded): this imports the instrumentations'
    /// modules, as `opentelemetry-instrument` would at start-up, but instruments nothing.
    /// One that fails to load is a problem (exit 1) with its error and a fix.
    #[arg(long = "no-load-check")]
    pub no_load_check: bool,

    /// Leave out the instrumentations another recommended one covers (starlette under
    /// fastapi) and those whose library only OpenTelemetry packages require (requests
    /// under the OTLP exporter); reads the environment's dependency graph.
    #[arg(long = "only-needed", conflicts_with_all = ["check", "from"])]
    pub only_needed: bool,

    #[command(flatten)]
    pub install: InstallArgs,
}

const INSTALL_HEADING: &str = "Install options (with -a install)";

/// The flags of `-a install`.
#[derive(Debug, Args)]
pub struct InstallArgs {
    /// The installer to run.
    #[arg(
        long,
        value_enum,
        default_value_t = InstallerChoice::Auto,
        requires = "action",
        help_heading = INSTALL_HEADING,
    )]
    pub installer: InstallerChoice,

    /// In a uv project, install with `uv pip install` instead of recording the packages
    /// with `uv add`.
    #[arg(long = "no-project", requires = "action", help_heading = INSTALL_HEADING)]
    pub no_project: bool,

    /// The package index (passed to the installer).
    #[arg(
        long = "index-url",
        value_name = "URL",
        requires = "action",
        help_heading = INSTALL_HEADING,
    )]
    pub index_url: Option<String>,

    /// An extra package index (repeatable; passed to the installer).
    #[arg(
        long = "extra-index-url",
        value_name = "URL",
        requires = "action",
        help_heading = INSTALL_HEADING,
    )]
    pub extra_index_url: Vec<String>,

    /// A directory or page of wheels to look in (repeatable; passed to the installer).
    #[arg(
        long = "find-links",
        value_name = "PATH|URL",
        requires = "action",
        help_heading = INSTALL_HEADING,
    )]
    pub find_links: Vec<String>,

    /// Print the command that would run, on stdout, and change nothing.
    #[arg(long = "dry-run", requires = "action", help_heading = INSTALL_HEADING)]
    pub dry_run: bool,

    /// Also install `opentelemetry-distro` (the SDK and its configuration) and an
    /// exporter, at versions that match the release, in the same transaction: from a bare
    /// application to working telemetry in one command.
    #[arg(long = "with-distro", requires = "action", help_heading = INSTALL_HEADING)]
    pub with_distro: bool,

    /// The exporter `--with-distro` adds.
    #[arg(
        long,
        value_name = "PACKAGE",
        default_value = crate::settings::DEFAULT_EXPORTER,
        requires = "with_distro",
        help_heading = INSTALL_HEADING,
    )]
    pub exporter: String,

    /// Arguments passed verbatim to the installer, after `--`.
    #[arg(
        last = true,
        value_name = "INSTALLER_ARGS",
        requires = "action",
        help_heading = INSTALL_HEADING,
    )]
    pub installer_args: Vec<std::ffi::OsString>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Inspect or rebuild the registry of instrumentations.
    #[command(subcommand)]
    Registry(RegistryCommand),
    /// Print a shell completion script on stdout.
    #[command(after_help = COMPLETIONS_AFTER_HELP)]
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) on stdout, e.g. `otel-bootstrap man > otel-bootstrap.1`.
    Man,
    /// Explain the plan as a table: one row per library, with the instrumentation's
    /// status and why, and the command that installs what is missing.
    #[command(after_help = EXPLAIN_AFTER_HELP)]
    Explain(ExplainArgs),
}

const EXPLAIN_AFTER_HELP: &str = "\
Statuses: installed, recommended (not installed), wrong version, covered by X (another
recommendation covers it), only required by X (only OpenTelemetry packages need its
library), out of range (with the release that supports it, if any), missing (another
library it needs is absent), excluded, opt-in, stale.

The table fits 80 columns (or $COLUMNS); colors only on a terminal (--color, NO_COLOR).";

/// The flags of `explain`: which environment, which release, and how to print.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub target: TargetArgs,

    /// Leave out what another recommendation covers or only the telemetry stack needs.
    #[arg(long = "only-needed")]
    pub only_needed: bool,

    /// `text`: the table; `json`: the same rows as a document.
    #[arg(long, value_enum, default_value_t = Format::Text, hide_possible_values = true)]
    pub format: Format,
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
    /// Rebuild the GenAI family's versions (`opentelemetry-instrumentation-genai-*`,
    /// `opentelemetry-util-genai`) from a package index, into the user registry (read by
    /// every later run) or `--output FILE` (`data/genai/packages.json` in a checkout).
    UpdateGenai {
        /// The index (simple API). Default: $UV_INDEX_URL, $PIP_INDEX_URL, else PyPI.
        #[arg(long, value_name = "URL")]
        index_url: Option<String>,
        /// Write the document here instead of the user registry.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Where to cache downloaded metadata (default: the user cache directory).
        #[arg(long, value_name = "DIR")]
        cache_dir: Option<PathBuf>,
    },
    /// Rebuild the registry files from a package index, into the user registry (read by
    /// every later run) or `--output DIR`.
    Update {
        /// The index (simple API). Default: $UV_INDEX_URL, $PIP_INDEX_URL, else PyPI.
        #[arg(long, value_name = "URL")]
        index_url: Option<String>,
        /// Write the release files here (e.g. `data/releases` in a checkout, or a vendor
        /// registry for --registry) instead of the user registry.
        #[arg(long, value_name = "DIR")]
        output: Option<PathBuf>,
        /// Refresh only this release (e.g. 0.67b0); other files are left alone.
        #[arg(long, value_name = "VERSION", conflicts_with = "from_release")]
        release: Option<String>,
        /// The oldest release to include.
        #[arg(long, value_name = "VERSION", default_value = crate::registry::generate::DEFAULT_MINIMUM_RELEASE)]
        from_release: String,
        /// Where to cache downloaded metadata (default: the user cache directory).
        #[arg(long, value_name = "DIR")]
        cache_dir: Option<PathBuf>,
    },
}
