//! Learning paths on the server: content import, a learner's progress, and the
//! unlock queries.
//!
//! In: the `content/` folder (imported all or nothing), and a learner's actions
//! on nodes (opened, attempted with a score). Out: what each learner sees on each
//! node, what an attempt unlocked, and the graph questions (needs, leads to,
//! what is left). The rules themselves are `eduscale_core::paths`; the SQL in
//! `sql/` mirrors them so the database answers in one statement each.

pub mod access;
pub mod content;
pub mod graphs;
pub mod import;
pub mod markdown;
pub mod progress;
pub mod queries;
