//! The arena for the pages: rooms, joining by code, the leaderboard, a
//! battle's problem and replays. Moves during a battle go over the WebSocket
//! (`eduscale_core::protocol`); these are the calls around it.
//!
//! Every function needs a signed-in person; a private battle's problem and
//! replay are only for those who were let in (by its code or by quick match).

use crate::api::paths::ChallengeView;
use crate::error::AppError;
use eduscale_core::battle::{Delta, Mode, Settings};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A battle to go to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BattleRef {
    /// Its id (the page's URL).
    pub id: u64,
    /// Its invite code.
    pub code: String,
}

/// An open room in the lobby.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomView {
    /// The battle.
    pub id: u64,
    /// Its code.
    pub code: String,
    /// 1v1 or group.
    pub mode: Mode,
    /// `lobby` or `running`.
    pub status: String,
    /// Who made it.
    pub host: String,
}

/// One line of the leaderboard.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Leader {
    /// Place, from 1.
    pub place: usize,
    /// User id.
    pub user: String,
    /// Shown name.
    pub name: String,
    /// Rating.
    pub rating: i32,
}

/// A finished battle's recording.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replay {
    /// The battle.
    pub id: u64,
    /// How it was played (the replay starts from a fresh state with these).
    pub settings: Settings,
    /// Every delta, in order.
    pub deltas: Vec<Delta>,
}

/// Creates a room (`duel` or `group`, public or by invitation) hosted by the caller.
#[server(endpoint = "create_battle")]
pub async fn create_battle(mode: String, public: bool) -> Result<BattleRef, AppError> {
    crate::error::respond(
        async move {
            let mode = match mode.as_str() {
                "duel" => Mode::Duel,
                "group" => Mode::Group,
                _ => {
                    return Err(AppError::BadRequest(
                        "A battle is a duel or a group.".into(),
                    ));
                }
            };
            let (state, user) = crate::api::context::who().await?;
            let (id, code) = state
                .arena
                .create(user.id, mode, public)
                .await
                .map_err(ssr::internal)?;
            Ok(BattleRef { id, code })
        }
        .await,
    )
}

/// Lets the caller into the battle with invite `code`.
#[server(endpoint = "join_battle")]
pub async fn join_battle(code: String) -> Result<BattleRef, AppError> {
    crate::error::respond(
        async move {
            let (state, user) = crate::api::context::who().await?;
            let id = match state.arena.join_code(&code, user.id).await {
                Ok(id) => id,
                Err(eduscale_server::arena::lobby::LobbyError::UnknownCode) => {
                    return Err(AppError::NotFound("No battle has that code.".into()));
                }
                Err(e) => return Err(ssr::internal(e)),
            };
            Ok(BattleRef {
                id,
                code: code.trim().to_uppercase(),
            })
        }
        .await,
    )
}

/// Public rooms still open, newest first.
#[server(endpoint = "open_battles")]
pub async fn open_battles() -> Result<Vec<RoomView>, AppError> {
    crate::error::respond(
        async move {
            let (state, _) = crate::api::context::who().await?;
            let rooms = state.arena.open_rooms(50).await.map_err(ssr::internal)?;
            Ok(rooms
                .into_iter()
                .map(|r| RoomView {
                    id: r.id,
                    code: r.code,
                    mode: r.mode,
                    status: r.status,
                    host: r.host,
                })
                .collect())
        }
        .await,
    )
}

/// The top 100 by rating.
#[server(endpoint = "leaderboard")]
pub async fn leaderboard() -> Result<Vec<Leader>, AppError> {
    crate::error::respond(
        async move {
            let (state, _) = crate::api::context::who().await?;
            let top = state.arena.leaderboard(100).await.map_err(ssr::internal)?;
            Ok(top
                .into_iter()
                .enumerate()
                .map(|(i, (user, name, rating))| Leader {
                    place: i + 1,
                    user: user.to_string(),
                    name,
                    rating,
                })
                .collect())
        }
        .await,
    )
}

/// The problem of a started battle: statement, starters, visible examples.
#[server(endpoint = "battle_problem")]
pub async fn battle_problem(battle: u64) -> Result<ChallengeView, AppError> {
    crate::error::respond(
        async move {
            let (state, user) = crate::api::context::who().await?;
            let not_yet = || AppError::NotFound("This battle has no problem to show (yet).".into());
            let challenge = state
                .arena
                .problem_for(battle, user.id)
                .await
                .map_err(ssr::internal)?
                .ok_or_else(not_yet)?;
            let mut conn = state.db.acquire().await.map_err(ssr::internal)?;
            let parts = eduscale_server::paths::queries::challenge_parts(&mut conn, challenge)
                .await
                .map_err(ssr::internal)?
                .ok_or_else(not_yet)?;
            Ok(ChallengeView {
                slug: parts.slug,
                statement_html: parts.statement_html,
                languages: parts
                    .languages
                    .iter()
                    .filter_map(|l| eduscale_core::code::Language::from_id(l))
                    .collect(),
                starters: parts.starters,
                examples: parts.examples,
                difficulty: parts.difficulty,
            })
        }
        .await,
    )
}

/// A finished battle's deltas, to replay it.
#[server(endpoint = "battle_replay")]
pub async fn battle_replay(battle: u64) -> Result<Replay, AppError> {
    crate::error::respond(
        async move {
            let (state, user) = crate::api::context::who().await?;
            let allowed = state
                .arena
                .may_watch(battle, user.id)
                .await
                .map_err(ssr::internal)?;
            if !allowed {
                return Err(AppError::NotFound("No such battle.".into()));
            }
            let (settings, deltas) = state
                .arena
                .replay(battle)
                .await
                .map_err(ssr::internal)?
                .ok_or_else(|| {
                    AppError::NotFound("That battle is not over yet, or does not exist.".into())
                })?;
            Ok(Replay {
                id: battle,
                settings,
                deltas,
            })
        }
        .await,
    )
}

#[cfg(feature = "ssr")]
mod ssr {
    use crate::error::AppError;

    /// A failure of ours: logged here, a plain 500 for the caller.
    pub fn internal(e: impl std::fmt::Display) -> AppError {
        tracing::error!(error = %e, "error in an arena server function");
        AppError::Internal
    }
}
