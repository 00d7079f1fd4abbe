//! Server functions, by capability. Each one is a short list of named steps:
//! parse the input into domain types, find out who is asking, do the work,
//! shape the answer. Only [`AppError`](crate::error::AppError) ever leaves.

pub mod accounts;
pub mod admin;
pub mod arena;
pub mod cohorts;
#[cfg(feature = "ssr")]
pub mod context;
pub mod insights;
pub mod paths;
pub mod runs;

use eduscale_core::account::Role;
use serde::{Deserialize, Serialize};

/// The signed-in person, as the pages see them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    /// Stable id.
    pub id: String,
    /// Log-in e-mail.
    pub email: String,
    /// Shown to others.
    pub display_name: String,
    /// What they may do (decides the navigation).
    pub role: Role,
    /// Sign-up date, `YYYY-MM-DD`.
    pub member_since: String,
}

#[cfg(feature = "ssr")]
impl From<eduscale_server::auth::User> for Me {
    fn from(u: eduscale_server::auth::User) -> Self {
        Me {
            id: u.id.to_string(),
            email: u.email,
            display_name: u.display_name,
            role: u.role,
            member_since: u.created_at.date().to_string(),
        }
    }
}
