//! EduScale's domain, pure Rust: no IO, no async, builds for wasm32 and native.
//!
//! The browser and the server link this same crate, so a rule written here gives
//! the same answer in a form, instantly, as the server gives when the form arrives.
//! Input becomes a domain type at the boundary (`Email::parse`, ...) and nothing
//! past that line checks it again.

pub mod account;
pub mod battle;
pub mod code;
pub mod cohort;
pub mod insights;
pub mod invalid;
pub mod paths;
pub mod protocol;

pub use invalid::Invalid;
