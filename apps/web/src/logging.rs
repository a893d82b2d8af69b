//! Structured logs (see `kit::logging`); requests are logged under the `web::access` target.

pub use kit::logging::*;

kit::access_log!("web::access");
