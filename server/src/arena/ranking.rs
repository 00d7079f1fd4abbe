//! Ratings and the leaderboard.
//!
//! Ratings are Weng-Lin (the skillratings crate): every battle is a
//! free-for-all of one-player teams ranked by the final standings, which covers
//! duels and groups alike. A rating is (mu, sigma); the number shown is
//! `round(40 * mu)`, so a new player starts at 1000. The leaderboard is a Redis
//! sorted set of shown ratings, rebuilt from PostgreSQL at start and updated
//! the moment a battle is settled.

use super::Shared;
use super::store::{self, ResultRow};
use eduscale_core::battle::BattleState;
use fred::prelude::*;
use skillratings::MultiTeamOutcome;
use skillratings::weng_lin::{WengLinConfig, WengLinRating, weng_lin_multi_team};
use sqlx::PgPool;
use uuid::Uuid;

/// The rating shown for a new player.
pub const START_RATING: i32 = 1000;

fn shown(rating: &WengLinRating) -> i32 {
    (rating.rating * 40.0).round() as i32
}

/// The leaderboard's key.
pub(crate) fn leaderboard_key(shared: &Shared) -> String {
    shared.redis.prefix.key("arena:leaderboard")
}

/// Which difficulties suit the players: harder for higher ratings.
pub fn difficulty_for(state: &BattleState) -> (i16, i16) {
    let n = state.players.len().max(1) as i64;
    let mean = state
        .players
        .iter()
        .map(|p| i64::from(p.rating))
        .sum::<i64>()
        / n;
    match mean {
        ..1100 => (1, 2),
        1100..1300 => (2, 3),
        _ => (3, 5),
    }
}

/// Each player's result and new rating, from the final standings.
pub async fn results(db: &PgPool, state: &BattleState) -> Result<Vec<ResultRow>, sqlx::Error> {
    let mut before = Vec::with_capacity(state.players.len());
    let mut users = Vec::with_capacity(state.players.len());
    for player in &state.players {
        // Player ids are the server's own user ids.
        let user = player.user.parse::<Uuid>().unwrap_or_default();
        let rating =
            store::rating(db, user)
                .await?
                .map_or_else(WengLinRating::new, |(mu, sigma, _)| WengLinRating {
                    rating: mu,
                    uncertainty: sigma,
                });
        users.push(user);
        before.push([rating]);
    }
    let teams: Vec<(&[WengLinRating], MultiTeamOutcome)> = before
        .iter()
        .zip(&state.players)
        .map(|(r, p)| {
            (
                &r[..],
                MultiTeamOutcome::new(usize::from(p.standing.rank.max(1))),
            )
        })
        .collect();
    let after = weng_lin_multi_team(&teams, &WengLinConfig::new());
    Ok(state
        .players
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let new = after
                .get(i)
                .and_then(|t| t.first())
                .copied()
                .unwrap_or(before[i][0]);
            ResultRow {
                user: users[i],
                rank: i32::from(p.standing.rank),
                score: i32::from(p.standing.score),
                solved_ms: p.solved_ms.map(|ms| ms as i64),
                before: shown(&before[i][0]),
                after: shown(&new),
                mu: new.rating,
                sigma: new.uncertainty,
            }
        })
        .collect())
}

/// Puts new ratings on the leaderboard.
pub(crate) async fn publish_leaderboard(shared: &Shared, ratings: &[(Uuid, i32)]) {
    if ratings.is_empty() {
        return;
    }
    let members: Vec<(f64, String)> = ratings
        .iter()
        .map(|(u, r)| (f64::from(*r), u.to_string()))
        .collect();
    let added: Result<i64, _> = shared
        .redis
        .pool
        .zadd(leaderboard_key(shared), None, None, false, false, members)
        .await;
    if let Err(e) = added {
        tracing::warn!(error = %e, "leaderboard update failed; it is rebuilt at the next start");
    }
}

/// Fills the leaderboard from PostgreSQL.
pub(crate) async fn rebuild_leaderboard(shared: &Shared) -> Result<(), anyhow::Error> {
    let all = store::all_ratings(&shared.db).await?;
    publish_leaderboard(shared, &all).await;
    Ok(())
}

/// The top `n` of the leaderboard: (user, rating), best first.
pub(crate) async fn top(shared: &Shared, n: i64) -> Result<Vec<(Uuid, i32)>, fred::error::Error> {
    let raw: Vec<(String, f64)> = shared
        .redis
        .pool
        .zrange(leaderboard_key(shared), 0, n - 1, None, true, None, true)
        .await?;
    Ok(raw
        .into_iter()
        .filter_map(|(u, r)| Some((u.parse().ok()?, r as i32)))
        .collect())
}
