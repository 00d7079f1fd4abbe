//! Redis through fred: one command pool and one dedicated subscriber per process.
//!
//! The subscriber is separate because a connection in subscribe mode can run no
//! other command; `manage_subscriptions` re-subscribes after every reconnect, so
//! callers subscribe once and forget. Every key this deployment writes starts
//! with its [`KeyPrefix`], so tests (and several deployments) can share one
//! Redis without seeing each other's keys.

use fred::clients::SubscriberClient;
use fred::prelude::*;
use fred::types::config::ReconnectPolicy;
use std::time::Duration;

mod channels;
pub mod redlock;

pub use channels::{Channels, Heard};

/// The prefix of every key and channel this deployment uses, e.g. `eduscale:`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyPrefix(String);

impl KeyPrefix {
    /// A prefix; a trailing `:` is added when missing.
    pub fn new(prefix: &str) -> Self {
        if prefix.is_empty() || prefix.ends_with(':') {
            Self(prefix.to_owned())
        } else {
            Self(format!("{prefix}:"))
        }
    }

    /// The full key for `suffix`.
    pub fn key(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.0)
    }

    /// The prefix itself.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The connected clients.
#[derive(Clone)]
pub struct Redis {
    /// Commands: get, set, incr, publish, ...
    pub pool: Pool,
    /// Subscriptions only; re-subscribes by itself after a reconnect.
    pub subscriber: SubscriberClient,
    /// Where this deployment's keys live.
    pub prefix: KeyPrefix,
    /// Who hears what the subscriber receives (see [`Redis::listen`]).
    pub channels: Channels,
}

/// Why Redis could not be used, in words for whoever runs the server.
#[derive(Debug, thiserror::Error)]
pub enum RedisError {
    /// The URL is malformed.
    #[error("REDIS_URL {url} is not a Redis URL: {reason}")]
    BadUrl { url: String, reason: String },
    /// Nothing answered.
    #[error(
        "cannot reach Redis at {url} ({reason}). Start it (`./eduscale.sh services`, or `redis-server --daemonize yes`) or set REDIS_URL."
    )]
    Unreachable { url: String, reason: String },
}

impl Redis {
    /// Connects a pool of `size` connections and the subscriber, and checks both answer.
    pub async fn connect(url: &str, size: usize, prefix: KeyPrefix) -> Result<Self, RedisError> {
        let shown = crate::db::redact(url);
        let config = Config::from_url(url).map_err(|e| RedisError::BadUrl {
            url: shown.clone(),
            reason: e.to_string(),
        })?;
        let unreachable = |e: Error| RedisError::Unreachable {
            url: shown.clone(),
            reason: plain_reason(&e),
        };
        let mut builder = Builder::from_config(config);
        builder
            .with_connection_config(|c| {
                c.connection_timeout = Duration::from_secs(3);
                c.internal_command_timeout = Duration::from_secs(5);
                // fred leaves Nagle's algorithm on: with many tasks' commands
                // pipelined on one connection, each write then waits for the
                // ACK of the one before, which comes with Redis's reply.
                c.tcp.nodelay = Some(true);
            })
            .with_performance_config(|p| {
                p.default_command_timeout = Duration::from_secs(5);
            })
            // Back off from 100 ms to 5 s, forever: Redis restarting must not kill the server.
            .set_policy(ReconnectPolicy::new_exponential(0, 100, 5_000, 2));
        let pool = builder.build_pool(size.max(1)).map_err(unreachable)?;
        // Every battle delta on the deployment passes through the subscriber's
        // broadcast; 32 (the default) is lost in a burst, and 8,192 (half a
        // second at 10,000 sockets) when the machine is saturated for a moment.
        // Only the subscriber's: fred sizes every broadcast of a client (its
        // messages, errors, reconnections...) alike and fills each one when it
        // is made, and nothing listens to the pool's, which at this size held
        // about 85 MB of each instance's memory.
        builder.with_performance_config(|p| p.broadcast_channel_capacity = 32_768);
        let subscriber = builder.build_subscriber_client().map_err(unreachable)?;
        // The first connection has its own deadline: a missing Redis answers with one line, quickly.
        let first = async {
            pool.init().await?;
            subscriber.init().await?;
            pool.ping::<()>(None).await
        };
        match tokio::time::timeout(Duration::from_secs(5), first).await {
            Ok(Ok(())) => {}
            // Dropping the clients stops their reconnect loops; `quit` would only warn
            // that they never connected.
            Ok(Err(e)) => return Err(unreachable(e)),
            Err(_) => {
                return Err(RedisError::Unreachable {
                    url: shown,
                    reason: "timed out".into(),
                });
            }
        }
        let _resubscribe = subscriber.manage_subscriptions();
        let channels = Channels::start(&subscriber);
        Ok(Self {
            pool,
            subscriber,
            prefix,
            channels,
        })
    }

    /// Whether the command pool answers a PING (for `/readyz`).
    pub async fn ping(&self) -> bool {
        self.pool.ping::<()>(None).await.is_ok()
    }

    /// Closes every connection.
    pub async fn quit(&self) {
        let _ = self.subscriber.quit().await;
        let _ = self.pool.quit().await;
    }
}

/// fred's IO errors print the OS error's Debug form; a person wants "connection refused".
fn plain_reason(e: &Error) -> String {
    let details = e.details();
    if details.contains("ConnectionRefused") || details.contains("Connection refused") {
        "connection refused".to_owned()
    } else if details.contains("TimedOut") {
        "timed out".to_owned()
    } else {
        details.to_owned()
    }
}
