//! Platform administration: who has an account, with what role.

use super::Me;
use crate::error::AppError;
use leptos::prelude::*;

/// The newest 200 accounts. Admins only.
#[server(endpoint = "list_users")]
pub async fn list_users() -> Result<Vec<Me>, AppError> {
    use super::context;
    use eduscale_core::account::Role;
    use eduscale_server::auth::{accounts, require_role};
    crate::error::respond(
        async move {
            let (state, user) = context::who().await?;
            require_role(&user, &[Role::Admin])?;
            Ok(accounts::list(&state.db, 200)
                .await?
                .into_iter()
                .map(Me::from)
                .collect())
        }
        .await,
    )
}
