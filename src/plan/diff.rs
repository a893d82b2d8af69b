//! Desired × observed → the exact fixes for one resource. Pure: each kind's `diff` in its
//! module, dispatched by the registry.

use std::collections::HashMap;

use super::resource::Key;

pub use crate::aws::registry::diff;

/// Ids of the stack's resources as observed (`Key` → AWS id).
pub type Ids = HashMap<Key, String>;
