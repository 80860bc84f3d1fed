//! What a job returns: how it ended ([`ExitStatus`]), or the error to show with a hint
//! ([`Failure`]). `main` turns them into exit codes 0, 1 and 2.

use std::fmt;

use crate::environment;

/// How a successful run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Exit 0.
    Success,
    /// Exit 1: the run worked and found a problem (a failed check).
    ProblemFound,
    /// Exit 128 + the signal (130 for Ctrl-C, 143 for SIGTERM): interrupted, as a shell
    /// reports it.
    Interrupted(i32),
}

impl ExitStatus {
    /// Success when a check passed, else a problem found.
    pub fn from_passed(passed: bool) -> Self {
        if passed {
            Self::Success
        } else {
            Self::ProblemFound
        }
    }
}

/// An error to show the user: the error chain, and what to do about it.
#[derive(Debug)]
pub struct Failure {
    pub error: anyhow::Error,
    pub hint: Option<String>,
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(error: E) -> Self {
        let error = error.into();
        let hint = error
            .chain()
            .find_map(|cause| cause.downcast_ref::<environment::EnvironmentError>())
            .and_then(environment::EnvironmentError::hint)
            .or_else(|| {
                let lockfile = error.downcast_ref::<crate::lockfile::LockfileError>();
                lockfile.and_then(crate::lockfile::LockfileError::hint)
            })
            .or_else(|| {
                let registry = error.chain().find_map(|cause| {
                    cause
                        .downcast_ref::<crate::registry::RegistryError>()
                        .or_else(|| match cause.downcast_ref::<crate::plan::PlanError>() {
                            Some(crate::plan::PlanError::Registry(inner)) => Some(inner),
                            _ => None,
                        })
                });
                registry.and_then(crate::registry::RegistryError::hint)
            });
        Self { error, hint }
    }
}

impl Failure {
    pub fn with_hint(error: impl Into<anyhow::Error>, hint: impl fmt::Display) -> Self {
        Self {
            error: error.into(),
            hint: Some(hint.to_string()),
        }
    }
}
