//! One module per page.

pub mod admin;
pub mod arena;
pub mod battle;
pub mod cohorts;
mod form;
pub mod home;
pub mod insights;
pub mod leaderboard;
pub mod login;
pub mod not_found;
pub mod path_node;
pub mod paths;
pub mod playground;
pub mod profile;
pub mod replay;
pub mod signup;
pub mod teach;
