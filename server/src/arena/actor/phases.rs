//! The two moments that write durable facts: revealing the problem when the
//! countdown ends (the start, fenced), and settling the finish (results and
//! ratings, once, fenced).

use super::{Actor, Stop};
use crate::arena::store::StoreError;
use crate::arena::{ranking, store};
use crate::insights::event::{Event, Kind};
use eduscale_core::battle::{Command, Phase, Problem};
use tokio::time::Instant;
use uuid::Uuid;

impl Actor {
    /// The countdown is over: pick the problem, record the start (fenced) and
    /// reveal it.
    pub(super) async fn reveal(&mut self, now: u64) -> Result<(), Stop> {
        let db = &self.shared.db;
        let battle = self.state.id;
        let challenge = match store::challenge_of(db, battle).await? {
            // A previous owner started it and died before revealing.
            Some(existing) => existing,
            None => {
                let (lo, hi) = ranking::difficulty_for(&self.state);
                let mut languages: Vec<String> = self
                    .state
                    .players
                    .iter()
                    .map(|p| p.language.id().to_owned())
                    .collect();
                languages.sort();
                languages.dedup();
                // Any battle challenge when none has starters in every
                // player's language: better a problem than a stuck countdown.
                let picked = match store::pick_problem(db, lo, hi, &languages).await? {
                    Some(picked) => Some(picked),
                    None => store::pick_problem(db, lo, hi, &[]).await?,
                };
                let Some(picked) = picked else {
                    tracing::error!(battle, "there are no battle challenges: import the content");
                    return Ok(());
                };
                store::start(db, battle, self.epoch, picked).await?;
                picked
            }
        };
        let Some(loaded) = self.load(challenge).await? else {
            return Ok(());
        };
        let problem = Problem {
            challenge: loaded.challenge.slug.clone(),
            title: loaded.challenge.title.clone(),
            visible: loaded.tests.iter().filter(|t| t.visible).count() as u16,
            hidden: loaded.tests.iter().filter(|t| !t.visible).count() as u16,
        };
        self.problem = Some(loaded);
        let revealed = self
            .commit(&Command::Reveal {
                problem,
                now_ms: now,
            })
            .await?;
        if revealed.is_err() {
            return Ok(());
        }
        if let Some(events) = self.shared.events.get() {
            for player in &self.state.players {
                if let Ok(user) = player.user.parse::<Uuid>() {
                    let event = Event::new(user, Kind::BattleJoined).in_battle(battle as i64);
                    // The actor hands the event over and goes on; it never waits on PostgreSQL.
                    let _ = events.send(event).await;
                }
            }
        }
        Ok(())
    }

    /// After the finish: results and ratings, once (fenced), then the ratings
    /// delta and the leaderboard.
    pub(super) async fn settle(&mut self) -> Result<(), Stop> {
        if self.state.players.iter().all(|p| p.rating_after.is_some()) {
            self.settled_at.get_or_insert_with(Instant::now);
            return Ok(());
        }
        let db = &self.shared.db;
        let battle = self.state.id;
        let results = ranking::results(db, &self.state).await?;
        let reason = match self.state.phase {
            Phase::Finished { reason, .. } => format!("{reason:?}").to_lowercase(),
            _ => "unknown".into(),
        };
        let ratings: Vec<(Uuid, i32)> =
            match store::finish(db, battle, self.epoch, &reason, &results).await {
                Ok(()) => {
                    if let Some(events) = self.shared.events.get() {
                        for r in &results {
                            let event =
                                Event::new(r.user, Kind::BattleFinished).in_battle(battle as i64);
                            let _ = events.send(event).await;
                        }
                    }
                    results.iter().map(|r| (r.user, r.after)).collect()
                }
                Err(StoreError::Fenced) => {
                    // Either a successor owns it, or a previous owner finished it.
                    store::still_owner(db, battle, self.epoch).await?;
                    store::results(db, battle).await?
                }
                Err(e) => return Err(e.into()),
            };
        let cmd = Command::Rate {
            ratings: ratings.iter().map(|(u, r)| (u.to_string(), *r)).collect(),
        };
        let _ = self.commit(&cmd).await?;
        ranking::publish_leaderboard(&self.shared, &ratings).await;
        metrics::counter!("arena_battles_finished_total").increment(1);
        self.settled_at = Some(Instant::now());
        let waiting: Vec<Uuid> = self.queued.keys().copied().collect();
        for user in waiting {
            self.pump(user).await?;
        }
        Ok(())
    }
}
