//! stackctl: observe → diff → apply for a whole AWS web stack.

pub mod aws;
pub mod check;
pub mod ci;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod cost;
pub mod dev;
pub mod engine;
pub mod image;
pub mod lock;
pub mod names;
pub mod plan;
