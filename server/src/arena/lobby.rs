//! Finding a battle: creating rooms, joining by code, the list of open rooms,
//! quick match, the leaderboard and replays.
//!
//! Quick match keeps one Redis sorted set per language, scored by rating; a
//! script pops the nearest waiting player within a window or adds the caller,
//! atomically, so two players are never matched twice, whichever instances
//! they asked on.

use super::route::{Input, Lookup, deliver};
use super::{Arena, ranking, store};
use eduscale_core::battle::{Delta, Mode, Settings};
use eduscale_core::code::Language;
use eduscale_core::protocol::{PlayerAction, ServerMsg};
use fred::prelude::*;
use fred::types::scripts::Script;
use rand::Rng;
use std::sync::LazyLock;
use uuid::Uuid;

/// A room as the lobby lists it.
#[derive(Debug, Clone)]
pub struct Room {
    /// The battle.
    pub id: u64,
    /// Its invite code.
    pub code: String,
    /// 1v1 or group.
    pub mode: Mode,
    /// Still gathering (`lobby`) or on (`running`).
    pub status: String,
    /// Who made it.
    pub host: String,
}

/// Why a lobby call failed.
#[derive(Debug, thiserror::Error)]
pub enum LobbyError {
    /// No battle has that code.
    #[error("no battle has that code")]
    UnknownCode,
    /// PostgreSQL failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    /// Redis failed.
    #[error(transparent)]
    Redis(#[from] fred::error::Error),
}

/// Rating distance quick match accepts.
const MATCH_WINDOW: i32 = 400;

static MATCH: LazyLock<Script> = LazyLock::new(|| {
    Script::from_lua(
        r#"
        local rating = tonumber(ARGV[2])
        local window = tonumber(ARGV[3])
        local near = redis.call('ZRANGEBYSCORE', KEYS[1], rating - window, rating + window)
        local best, best_gap = nil, nil
        for i, member in ipairs(near) do
            if member ~= ARGV[1] then
                local gap = math.abs(tonumber(redis.call('ZSCORE', KEYS[1], member)) - rating)
                if best == nil or gap < best_gap then best, best_gap = member, gap end
            end
        end
        if best then
            redis.call('ZREM', KEYS[1], best)
            return best
        end
        redis.call('ZADD', KEYS[1], rating, ARGV[1])
        return false
        "#,
    )
});

fn new_code() -> String {
    // No 0/O or 1/I: codes are read aloud and typed.
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    (0..6)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

impl Arena {
    /// Creates a battle hosted by `host`; returns its id and invite code.
    pub async fn create(
        &self,
        host: Uuid,
        mode: Mode,
        public: bool,
    ) -> Result<(u64, String), LobbyError> {
        let mut settings = Settings::standard(mode, public);
        settings.countdown_ms = self.shared.config.countdown.as_millis() as u64;
        settings.duration_ms = self.shared.config.duration.as_millis() as u64;
        let mut tries = 0;
        let (id, code) = loop {
            let code = new_code();
            match store::create(&self.shared.db, &code, &settings, host).await {
                Ok(id) => break (id, code),
                // A code already taken: draw again.
                Err(sqlx::Error::Database(e))
                    if e.constraint() == Some("battles_code_key") && tries < 5 =>
                {
                    tries += 1;
                }
                Err(e) => return Err(e.into()),
            }
        };
        self.invite(id, host).await?;
        Ok((id, code))
    }

    /// The battle with invite code `code`, letting `user` in.
    pub async fn join_code(&self, code: &str, user: Uuid) -> Result<u64, LobbyError> {
        let code = code.trim().to_uppercase();
        let id = store::by_code(&self.shared.db, &code)
            .await?
            .ok_or(LobbyError::UnknownCode)?;
        self.invite(id, user).await?;
        Ok(id)
    }

    /// Public battles still open, newest first.
    pub async fn open_rooms(&self, limit: i64) -> Result<Vec<Room>, LobbyError> {
        Ok(store::open_rooms(&self.shared.db, limit)
            .await?
            .into_iter()
            .map(|r| Room {
                id: r.id,
                code: r.code,
                mode: if r.mode == "group" {
                    Mode::Group
                } else {
                    Mode::Duel
                },
                status: r.status,
                host: r.host,
            })
            .collect())
    }

    /// Looks for an opponent for `user` in `language`. When one is waiting,
    /// makes a private duel, seats both and tells both (`Matched`); otherwise
    /// `user` waits in the queue. Returns the battle when matched now.
    pub async fn quick_match(
        &self,
        user: Uuid,
        name: &str,
        language: Language,
    ) -> Result<Option<u64>, LobbyError> {
        let rating = store::rating(&self.shared.db, user)
            .await?
            .map_or(ranking::START_RATING, |(_, _, shown)| shown);
        let queue = self.queue_key(language);
        let matched: Option<String> = MATCH
            .evalsha_with_reload(
                self.shared.redis.pool.next(),
                vec![queue],
                vec![
                    user.to_string(),
                    rating.to_string(),
                    MATCH_WINDOW.to_string(),
                ],
            )
            .await?;
        let Some(opponent) = matched.and_then(|m| m.parse::<Uuid>().ok()) else {
            return Ok(None);
        };
        let (battle, _) = self.create(user, Mode::Duel, false).await?;
        self.invite(battle, opponent).await?;
        let opponent_name =
            sqlx::query_scalar!("SELECT display_name FROM users WHERE id = $1", opponent)
                .fetch_one(&self.shared.db)
                .await?;
        for (who, shown) in [(opponent, opponent_name.as_str()), (user, name)] {
            let join = Input::Play {
                user: who,
                name: shown.to_owned(),
                action: PlayerAction::Join { language },
            };
            if let Err(e) = deliver(&self.shared, battle, join, Lookup::Remembered).await {
                tracing::warn!(battle, error = %e, "could not seat a matched player");
            }
            self.shared
                .hub
                .send_to(who, ServerMsg::Matched { battle })
                .await;
        }
        Ok(Some(battle))
    }

    /// Takes `user` out of every quick-match queue.
    pub async fn cancel_match(&self, user: Uuid) -> Result<(), LobbyError> {
        for language in Language::ALL {
            let _: i64 = self
                .shared
                .redis
                .pool
                .zrem(self.queue_key(language), user.to_string())
                .await?;
        }
        Ok(())
    }

    fn queue_key(&self, language: Language) -> String {
        self.shared
            .redis
            .prefix
            .key(&format!("arena:queue:{}", language.id()))
    }

    /// The leaderboard's top `n`: (user, name, rating), best first.
    pub async fn leaderboard(&self, n: i64) -> Result<Vec<(Uuid, String, i32)>, LobbyError> {
        let top = ranking::top(&self.shared, n).await?;
        let ids: Vec<Uuid> = top.iter().map(|(u, _)| *u).collect();
        let names = sqlx::query!(
            "SELECT id, display_name FROM users WHERE id = ANY($1)",
            &ids
        )
        .fetch_all(&self.shared.db)
        .await?;
        Ok(top
            .into_iter()
            .filter_map(|(user, rating)| {
                let name = names.iter().find(|n| n.id == user)?.display_name.clone();
                Some((user, name, rating))
            })
            .collect())
    }

    /// Every delta of a finished battle, for its replay; `None` if it is not
    /// finished or does not exist (a live battle is watched, not replayed).
    pub async fn replay(&self, battle: u64) -> Result<Option<(Settings, Vec<Delta>)>, LobbyError> {
        let Some(row) = store::find(&self.shared.db, battle).await? else {
            return Ok(None);
        };
        if row.status != "finished" {
            return Ok(None);
        }
        let deltas = store::deltas_after(&self.shared.db, battle, 0).await?;
        Ok(Some((row.settings, deltas)))
    }
}

impl Arena {
    /// The challenge `user` may read for `battle`: only once it has started,
    /// and for a private battle only for those let in.
    pub async fn problem_for(&self, battle: u64, user: Uuid) -> Result<Option<Uuid>, LobbyError> {
        let Some(row) = store::find(&self.shared.db, battle).await? else {
            return Ok(None);
        };
        if !row.settings.public && !self.may_enter(battle, user).await {
            return Ok(None);
        }
        Ok(store::challenge_of(&self.shared.db, battle).await?)
    }
}

impl Arena {
    /// Whether `user` may watch or replay `battle` (public, or let in).
    pub async fn may_watch(&self, battle: u64, user: Uuid) -> Result<bool, LobbyError> {
        let Some(row) = store::find(&self.shared.db, battle).await? else {
            return Ok(false);
        };
        Ok(row.settings.public || self.may_enter(battle, user).await)
    }
}
