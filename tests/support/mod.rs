//! Shared helpers for the integration tests: wheels the tests build, a package index
//! served on 127.0.0.1, provisioned Python tools (venvs, uv, the upstream tool), and
//! running the built binary in a clean environment.

pub mod index;
pub mod memory;
pub mod mirror;
pub mod mirror_genai;
pub mod mirror_old_python;
pub mod python;
pub mod snapshot;
pub mod tools;
pub mod tools_lock;
pub mod tools_pm;
pub mod wheel;
