//! Installing: choosing the installer ([`installer`]), running it once ([`process`]),
//! redacting what it prints ([`crate::redact`]) and checking the environment afterwards
//! ([`verify`]). The job that drives them is [`crate::jobs::install`].
//!
//! `-a install`: installs the plan in one installer run, then checks the result natively.
//!
//! The plan is built as for `-a requirements` (same release choice, same partial-release
//! alignment). Its requirements, and the core packages an alignment moves, go to **one**
//! installer invocation: both pip and uv resolve everything before they change anything,
//! so a failure leaves the environment as it was. Nothing runs when everything planned is
//! already installed and its requirements are met.
//!
//! The installer (`--installer auto`, see [`installer::select`]):
//! - the environment of a uv project (a `pyproject.toml` with a `uv.lock` beside it, from
//!   the current directory up): `uv add`, so that `uv sync` keeps the packages
//!   (`--no-project`: `uv pip install`);
//! - an environment created by uv, or without pip: `uv pip install --python <interpreter>`;
//! - otherwise uv when it is on `PATH`, else `<interpreter> -m pip install -U
//!   --upgrade-strategy only-if-needed` (upstream's strategy).
//!
//! Exit status: 0 installed (or nothing to do); 1 the requirements cannot be satisfied
//! from the index, or a conflict remains after installing; 2 an error (no installer, an
//! externally managed interpreter, an unreachable index, any other installer failure).
//! Stdout stays empty except with `--dry-run`, where the command is the data.

pub mod installer;
pub(crate) mod load_check;
pub(crate) mod process;
pub(crate) mod snapshot;
pub(crate) mod verify;
