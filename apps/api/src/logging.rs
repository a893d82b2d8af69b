//! Structured logs (see `kit::logging`); requests are logged under the `api::access` target.

pub use kit::logging::*;

kit::access_log!("api::access");
