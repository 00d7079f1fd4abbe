//! The problems being played on this instance, each held once however many
//! battles play it.
//!
//! A battle's owner needs its challenge and every test case (hidden ones too)
//! to judge submissions. Loaded per battle, thousands of battles over a few
//! dozen challenges held thousands of copies of the same tests: most of an
//! instance's memory at 10,000 sockets. Here the battles share one `Arc` per
//! challenge. The cache holds only `Weak`s, so a problem nobody plays is freed,
//! and an entry is used only while the challenge's content hash is unchanged,
//! so a battle that starts after a re-import gets the new tests.

use crate::challenges::{self, Challenge};
use eduscale_core::code::TestCase;
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use uuid::Uuid;

/// A problem being played, with its tests (server only).
#[derive(Debug)]
pub(crate) struct Loaded {
    pub(crate) challenge: Challenge,
    pub(crate) tests: Vec<TestCase>,
}

/// The problems battles here play, by challenge.
#[derive(Default)]
pub(crate) struct Problems {
    /// std Mutex: never held across an await.
    map: Mutex<HashMap<Uuid, Held>>,
}

/// A problem some battle here may still hold, and the content hash it was
/// loaded under: `None` for a challenge made outside the importer, whose tests
/// never change after it is created.
type Held = (Option<String>, Weak<Loaded>);

impl Problems {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Held>> {
        self.map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `challenge` with its tests: the copy other battles here already hold if
    /// its content is unchanged, else read from PostgreSQL. `None`: no such
    /// challenge.
    pub(crate) async fn get(
        &self,
        db: &PgPool,
        challenge: Uuid,
    ) -> Result<Option<Arc<Loaded>>, sqlx::Error> {
        let Some(hash) = sqlx::query_scalar!(
            "SELECT content_hash FROM challenges WHERE id = $1",
            challenge
        )
        .fetch_optional(db)
        .await?
        else {
            return Ok(None);
        };
        if let Some((held, weak)) = self.lock().get(&challenge)
            && *held == hash
            && let Some(loaded) = weak.upgrade()
        {
            return Ok(Some(loaded));
        }
        let Some(found) = challenges::find(db, &challenge.to_string()).await? else {
            return Ok(None);
        };
        let tests = challenges::tests(db, found.id).await?;
        let loaded = Arc::new(Loaded {
            challenge: found,
            tests,
        });
        let mut map = self.lock();
        // Two battles may have read it at once: keep the first, free the other.
        if let Some((held, weak)) = map.get(&challenge)
            && *held == hash
            && let Some(first) = weak.upgrade()
        {
            return Ok(Some(first));
        }
        map.retain(|_, (_, weak)| weak.strong_count() > 0);
        map.insert(challenge, (hash, Arc::downgrade(&loaded)));
        Ok(Some(loaded))
    }

    /// How many problems are held.
    #[cfg(test)]
    fn held(&self) -> usize {
        self.lock()
            .values()
            .filter(|(_, weak)| weak.strong_count() > 0)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::challenges::NewChallenge;
    use eduscale_core::code::{Checker, Limits};

    fn challenge(slug: &str, expected: &str) -> NewChallenge {
        NewChallenge {
            slug: slug.into(),
            title: "Echo".into(),
            statement: "Print it.".into(),
            checker: Checker::Exact,
            limits: Limits::default(),
            tests: vec![TestCase {
                stdin: String::new(),
                expected: expected.into(),
                visible: false,
            }],
        }
    }

    #[sqlx::test(migrator = "crate::db::MIGRATOR")]
    async fn battles_share_one_copy_freed_when_none_plays_it(db: PgPool) {
        let id = challenges::create(&db, &challenge("echo", "x"))
            .await
            .expect("challenge");
        let problems = Problems::default();
        let first = problems.get(&db, id).await.expect("read").expect("found");
        let second = problems.get(&db, id).await.expect("read").expect("found");
        assert!(Arc::ptr_eq(&first, &second));
        assert_eq!(first.tests[0].expected, "x");
        assert_eq!(problems.held(), 1);
        drop((first, second));
        assert_eq!(problems.held(), 0);
        assert!(
            problems
                .get(&db, Uuid::new_v4())
                .await
                .expect("read")
                .is_none()
        );
    }

    #[sqlx::test(migrator = "crate::db::MIGRATOR")]
    async fn a_reimported_challenge_is_read_again(db: PgPool) {
        let id = challenges::create(&db, &challenge("echo", "old"))
            .await
            .expect("challenge");
        let problems = Problems::default();
        let old = problems.get(&db, id).await.expect("read").expect("found");
        // What the importer does when the content changed.
        let mut tx = db.begin().await.expect("tx");
        challenges::replace_tests(&mut tx, id, &challenge("echo", "new").tests)
            .await
            .expect("tests");
        sqlx::query("UPDATE challenges SET content_hash = 'changed' WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .expect("hash");
        tx.commit().await.expect("commit");
        let new = problems.get(&db, id).await.expect("read").expect("found");
        assert!(!Arc::ptr_eq(&old, &new));
        assert_eq!(
            old.tests[0].expected, "old",
            "a running battle keeps its tests"
        );
        assert_eq!(new.tests[0].expected, "new");
    }
}
