//! The integration tests: one binary (one link of every dependency), one module per area,
//! sharing the helpers in `tests/support`.

#[path = "../support/mod.rs"]
mod support;

mod architecture;
mod channels;
mod check;
mod check_fixes;
mod cli;
mod completions;
mod differential;
mod explain;
mod genai;
mod hardening;
mod hostile;
mod install;
mod json_documents;
mod lockfile;
mod lockfile_hardening;
mod lockfile_selection;
mod lockfile_tools;
mod messages;
mod old_python;
mod packaging;
mod project_managers;
mod properties;
mod python_request;
mod real_env;
mod registry_bounds;
mod registry_sources;
mod registry_update;
mod releases;
mod stack;
mod suggested_commands;
mod whole_environment;
