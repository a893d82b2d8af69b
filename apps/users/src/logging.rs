//! Structured logs (see `kit::logging`); requests are logged under the `users::access` target.

pub use kit::logging::*;

kit::access_log!("users::access");
