//! The payments API: legacy paths (as the original app had them) and `/v1/payments`.

pub mod legacy;
pub mod model;
pub mod v1;
