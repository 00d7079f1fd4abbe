//! The instructors' Insights pages: `/insights` (the scopes the caller may
//! read and, for admins, every cohort's health side by side),
//! `/insights/:scope` (a cohort's, or the whole platform's, dashboard with its
//! live pulse), and the drill-downs `/insights/:scope/learners/:id` and
//! `/insights/:scope/nodes/:id`.
//!
//! Everything comes from the `api::insights` server functions, which check who
//! asks. The pages only ask for instructors and admins: anyone else is told
//! what the pages are for without a refused request in their console. Data is
//! loaded by resources awaited under `Transition`, so the server renders it
//! into the first paint and the browser hydrates the very same markup. Every
//! flag shows its light in words as well as colour, with the reasons behind
//! it; every table links its CSV export.

pub mod home;
pub mod learner;
pub mod node;
pub mod overview;
mod parts;
mod series;
mod tables;
