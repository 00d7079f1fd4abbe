//! Sessions: an HttpOnly, SameSite=Lax cookie holding a random id; the record in Redis.
//!
//! The store is written here on fred instead of taking `tower-sessions-redis-store`
//! because every key must carry this deployment's [`KeyPrefix`](crate::redis::KeyPrefix)
//! (tests share one Redis in parallel) and it reuses the server's own pool. It is
//! four commands: SET NX on create (an id collision picks a new id), SET with an
//! absolute expiry on save, GET, DEL.

use super::{AuthError, User, accounts};
use crate::AppState;
use crate::redis::Redis;
use fred::prelude::*;
use fred::types::{Expiration, SetOptions};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};
use tower_sessions::{Expiry, Session, SessionManagerLayer, cookie::SameSite};
use uuid::Uuid;

/// The session key under which the signed-in user's id is kept.
const USER_ID: &str = "user_id";
/// The cookie's name.
pub const COOKIE: &str = "eduscale_session";

/// Session records in Redis under `{prefix}session:{id}`.
#[derive(Clone)]
pub struct RedisSessionStore {
    redis: Redis,
}

impl std::fmt::Debug for RedisSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisSessionStore")
            .field("prefix", &self.redis.prefix)
            .finish()
    }
}

impl RedisSessionStore {
    /// A store on the server's Redis pool.
    pub fn new(redis: Redis) -> Self {
        Self { redis }
    }

    fn key(&self, id: &Id) -> String {
        self.redis.prefix.key(&format!("session:{id}"))
    }

    async fn write(&self, record: &Record, only_new: bool) -> session_store::Result<bool> {
        let value = serde_json::to_string(record)
            .map_err(|e| session_store::Error::Encode(e.to_string()))?;
        let at = record.expiry_date.unix_timestamp();
        let options = only_new.then_some(SetOptions::NX);
        let written: Option<String> = self
            .redis
            .pool
            .set(
                self.key(&record.id),
                value,
                Some(Expiration::EXAT(at)),
                options,
                false,
            )
            .await
            .map_err(|e| session_store::Error::Backend(e.to_string()))?;
        Ok(written.is_some())
    }
}

#[async_trait::async_trait]
impl SessionStore for RedisSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        while !self.write(record, true).await? {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.write(record, false).await.map(|_| ())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let value: Option<String> = self
            .redis
            .pool
            .get(self.key(id))
            .await
            .map_err(|e| session_store::Error::Backend(e.to_string()))?;
        value
            .map(|v| {
                serde_json::from_str(&v).map_err(|e| session_store::Error::Decode(e.to_string()))
            })
            .transpose()
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        let _: () = self
            .redis
            .pool
            .del(self.key(id))
            .await
            .map_err(|e| session_store::Error::Backend(e.to_string()))?;
        Ok(())
    }
}

/// The cookie layer: HttpOnly, SameSite=Lax, ends after the configured idle time.
pub fn layer(state: &AppState) -> SessionManagerLayer<RedisSessionStore> {
    let idle = time::Duration::try_from(state.auth.session_idle).unwrap_or(time::Duration::days(7));
    SessionManagerLayer::new(RedisSessionStore::new(state.redis.clone()))
        .with_name(COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.auth.secure_cookies)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(idle))
}

/// Starts a signed-in session for `user`, under a new id (no session fixation).
pub async fn start(session: &Session, user: &User) -> Result<(), AuthError> {
    session
        .cycle_id()
        .await
        .map_err(|e| anyhow::anyhow!("session: {e}"))?;
    session
        .insert(USER_ID, user.id)
        .await
        .map_err(|e| anyhow::anyhow!("session: {e}"))?;
    Ok(())
}

/// Ends the session: the record is deleted and the cookie cleared.
pub async fn end(session: &Session) -> Result<(), AuthError> {
    session
        .flush()
        .await
        .map_err(|e| anyhow::anyhow!("session: {e}"))?;
    Ok(())
}

/// Who is asking: the session's user, or [`AuthError::NotSignedIn`].
pub async fn current_user(state: &AppState, session: &Session) -> Result<User, AuthError> {
    let id: Option<Uuid> = session
        .get(USER_ID)
        .await
        .map_err(|e| anyhow::anyhow!("session: {e}"))?;
    let Some(id) = id else {
        return Err(AuthError::NotSignedIn);
    };
    // Read the account each time: a role changed or an account deleted takes effect at once.
    accounts::find(&state.db, id)
        .await?
        .ok_or(AuthError::NotSignedIn)
}

/// Writes a signed-in session for `user` straight to the store and returns the
/// cookie's value: the record log-in writes, without a password check. For
/// tools that sign thousands of people in at once (`eduscale bench arena`),
/// where hashing a password per person would take minutes.
pub async fn mint(
    redis: &Redis,
    user: Uuid,
    lasts: std::time::Duration,
) -> Result<String, AuthError> {
    let lasts = time::Duration::try_from(lasts).unwrap_or(time::Duration::hours(1));
    let mut record = Record {
        id: Id::default(),
        data: [(USER_ID.to_owned(), serde_json::json!(user))]
            .into_iter()
            .collect(),
        expiry_date: time::OffsetDateTime::now_utc() + lasts,
    };
    RedisSessionStore::new(redis.clone())
        .create(&mut record)
        .await
        .map_err(|e| anyhow::anyhow!("session: {e}"))?;
    Ok(record.id.to_string())
}
