//! One deployment per test, and the steps battles share.

use crate::client::{Person, Seat, person};
use crate::cluster::{Deployment, Instance, RedisNodes};
use eduscale_core::battle::{BattleState, Phase};
use eduscale_core::protocol::PlayerAction;
use fred::prelude::*;
use sqlx::PgPool;
use std::time::Duration;

/// Enough for anything a battle does here, on a loaded 2-core machine.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// A deployment of `instances` over a fresh database.
pub struct World {
    /// The settings.
    pub deployment: Deployment,
    /// The instances.
    pub instances: Vec<Instance>,
    /// The database.
    pub db: PgPool,
    /// The three lock nodes.
    pub nodes: RedisNodes,
}

/// The URL of a `#[sqlx::test]` database.
pub fn url_of(db: &PgPool) -> String {
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL for sqlx::test");
    let name = db
        .connect_options()
        .get_database()
        .expect("a name")
        .to_owned();
    format!("{}/{name}", base.rsplit_once('/').expect("a path").0)
}

impl World {
    /// Starts three lock nodes, imports the content, starts `instances`.
    pub async fn start(db: PgPool, instances: usize, lease_ms: u64, countdown_ms: u64) -> World {
        let nodes = RedisNodes::start(3);
        let deployment = Deployment {
            database_url: url_of(&db),
            redis_url: std::env::var("REDIS_URL")
                .unwrap_or_else(|_| "redis://127.0.0.1:6379".into()),
            prefix: format!("test:{}:", uuid::Uuid::new_v4()),
            lock_urls: nodes.urls.clone(),
            lease_ms,
            countdown_ms,
        };
        deployment.import_content();
        let mut started = Vec::new();
        for _ in 0..instances {
            started.push(deployment.instance().await);
        }
        World {
            deployment,
            instances: started,
            db,
            nodes,
        }
    }

    /// Someone signed in (on the first instance).
    pub async fn person(&self, name: &str) -> Person {
        let email = format!("{}@arena.test", name.to_lowercase());
        person(&self.db, self.instances[0].addr, &email, name).await
    }

    /// The instance that owns `battle` now, by index.
    pub async fn owner(&self, battle: u64) -> Option<usize> {
        let redis = self.redis().await;
        let key = format!("{}arena:battle:{battle}:owner", self.deployment.prefix);
        let owner: Option<String> = redis.get(key).await.unwrap();
        let _ = redis.quit().await;
        let owner = owner?;
        self.instances.iter().position(|i| i.id == owner)
    }

    /// Moves `battle`'s log seq on by `by` behind its owner's back: the
    /// owner's next append is refused as out of order.
    pub async fn skew_seq(&self, battle: u64, by: i64) {
        let redis = self.redis().await;
        let key = format!("{}arena:battle:{battle}:seq", self.deployment.prefix);
        let _: i64 = redis.incr_by(key, by).await.unwrap();
        let _ = redis.quit().await;
    }

    async fn redis(&self) -> Client {
        let client = Client::new(
            Config::from_url(&self.deployment.redis_url).unwrap(),
            None,
            None,
            None,
        );
        client.init().await.unwrap();
        client
    }

    /// Deletes this deployment's Redis keys.
    pub async fn cleanup(self) {
        let redis = self.redis().await;
        let keys: Vec<String> = redis
            .custom(
                fred::cmd!("KEYS"),
                vec![format!("{}*", self.deployment.prefix)],
            )
            .await
            .unwrap();
        for key in keys {
            let _: i64 = redis.del(key).await.unwrap();
        }
        let _ = redis.quit().await;
    }
}

/// Every seat follows `battle` and has its snapshot.
pub async fn watch_all(seats: &mut [Seat], battle: u64) {
    for seat in seats.iter_mut() {
        seat.watch(battle).await;
    }
    for seat in seats.iter_mut() {
        seat.until(PATIENCE, |s| s.state.is_some()).await;
    }
}

/// Waits until every seat's copy satisfies `done`.
pub async fn all_until(seats: &mut [Seat], done: impl Fn(&BattleState) -> bool + Copy) {
    for seat in seats.iter_mut() {
        seat.until(PATIENCE, |s| s.state.as_ref().is_some_and(done))
            .await;
    }
}

/// `players` (one seat each, by index into `seats`) join and get ready; waits
/// until every seat sees the problem.
pub async fn start_battle(seats: &mut [Seat], players: &[usize], battle: u64) {
    for &p in players {
        seats[p].join(battle).await;
    }
    let n = players.len();
    all_until(seats, |s| s.players.len() == n).await;
    for &p in players {
        seats[p]
            .play(battle, PlayerAction::Ready { ready: true })
            .await;
    }
    all_until(seats, |s| matches!(s.phase, Phase::Running { .. })).await;
}

/// The shipped reference solution of `challenge` in Python.
pub fn solution(challenge: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("content/challenges")
        .join(challenge)
        .join("solution.py");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every seat applied its seqs one after another, none skipped or repeated,
/// and all hold the same state.
pub fn assert_whole(seats: &[Seat]) {
    for seat in seats {
        assert!(
            seat.seqs_contiguous(),
            "a seq was skipped or repeated: {:?}",
            seat.applied
        );
    }
    assert_in_step(seats);
}

/// Every seat holds the same state (and so the same hash).
pub fn assert_in_step(seats: &[Seat]) {
    let first = seats[0].battle();
    for seat in seats {
        assert_eq!(
            seat.battle(),
            first,
            "seat of {} on {} differs",
            seat.person,
            seat.at
        );
        assert_eq!(
            eduscale_core::battle::StateHash::of(seat.battle()),
            eduscale_core::battle::StateHash::of(first)
        );
    }
}

/// `who`'s code in `state` (players are in join order, which races).
pub fn code_of(state: &BattleState, who: uuid::Uuid) -> &str {
    state
        .player_index(&who.to_string())
        .map_or("", |i| state.players[i].code.as_str())
}
