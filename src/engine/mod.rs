//! Observe → diff → apply, wired to AWS. The deciding is in `plan`; the acting in `aws`.

pub mod apply;
pub mod converge;
pub mod explain;
pub mod images;
pub mod observe;
pub mod progress;
pub mod rollout;

pub use apply::{ApplyError, apply};
pub use observe::{Observation, observe};
pub use progress::Progress;
