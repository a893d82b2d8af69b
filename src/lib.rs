//! stackctl as a library: the pieces the CLI is made of.

pub mod image;
