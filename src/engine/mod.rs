//! Observe → diff → apply, wired to AWS. The deciding is in `plan`; the acting in `aws`.

pub mod apply;
pub mod converge;
pub mod explain;
pub mod images;
pub mod observe;
pub mod progress;
pub mod rollback;
pub mod rollout;
pub mod scan;

pub use apply::{ApplyError, apply};
pub use observe::{Observation, observe};
pub use progress::Progress;

/// What the engine's work can fail with, each cause once; `commands` renders it for people.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// An immutable property differs; stackctl will not destroy data to change it.
    #[error("{what} cannot be updated in place")]
    Blocked { what: String, reason: String },
    #[error(transparent)]
    Aws(#[from] crate::aws::AwsError),
    #[error(transparent)]
    Apply(#[from] ApplyError),
    #[error(transparent)]
    Rollout(#[from] rollout::RolloutError),
    #[error(transparent)]
    Image(#[from] crate::image::Error),
    /// A CI role's `up` would change who may deploy: an administrator's run does that.
    #[error("the CI {role} role cannot make {} of these changes: {}", changes.len(), changes.join("; "))]
    NeedsAdministrator {
        role: &'static str,
        changes: Vec<String>,
    },
    /// `--fail-on`: an image's scan found too much, or could not tell.
    #[error(transparent)]
    Scan(#[from] scan::Stopped),
}
