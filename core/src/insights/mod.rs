//! Insights' pure half: the knowledge-tracing model, how well it ranks, and the
//! explained flags instructors read.
//!
//! The server loads attempts and aggregates from PostgreSQL and hands numbers in;
//! what comes out is a fitted model ([`pfa`]), an AUC ([`auc`]) and flags that
//! carry their own reasons ([`flags`]). Nothing here does IO or keeps a clock, so
//! the same rules run in tests, on the server and, if a page wants, in the browser.

pub mod auc;
pub mod flags;
pub mod pfa;
pub mod report;
