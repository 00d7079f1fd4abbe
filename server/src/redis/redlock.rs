//! Redlock: one lock held across N independent Redis nodes.
//!
//! In: the URLs of N Redis servers that share nothing (no replication, no
//! cluster), then a key and a time to live per lock. Out: a [`Lease`] when a
//! majority of the nodes took our random token for that key in time, else
//! `None`. Promise: until a lease's `valid_until`, no other caller holds a lease
//! on the same key over the same nodes, as long as the nodes' clocks run at about
//! the same rate (1 % plus 2 ms is allowed for) and a restarted node does not come
//! back with keys missing while their TTL still runs (run the nodes with
//! persistence, or keep a restarted one out for a TTL). This is the algorithm of
//! <https://redis.io/docs/latest/develop/use/patterns/distributed-locks/>.
//!
//! Why hand-written: no well-kept Redlock crate exists for fred 10. The Redlock
//! crates (`redlock`, `rust_redlock`, `redsync`, `rslock`) sit on the `redis`
//! crate, which would mean a second Redis client with its own connection code;
//! the one fred-based crate found, `distributed-lock-redis` 0.2, is pinned to
//! fred 9 and brings a lock framework of its own. The algorithm is short enough
//! to own.
//!
//! Why one fred `Client` per node with fail-fast commands under a short timeout:
//! a node that is down or slow must cost at most one short timeout and count as
//! "no", never hold up the vote; fred's reconnect policy brings it back on its
//! own. A command is written at most once (`max_attempts = 1`) and fred drops
//! commands that timed out before they were written, so a `SET` we gave up on is
//! not replayed on a later connection.

use fred::clients::WithOptions;
use fred::prelude::*;
use fred::types::{ClusterHash, CustomCommand};
use std::future::Future;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// How long `connect` waits for the nodes to answer before going on without them.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Bounds on one node's answer to one command: far below any sensible TTL, so a
/// dead node costs little of the lease, yet above a loopback round trip.
const MIN_NODE_TIMEOUT: Duration = Duration::from_millis(5);
const MAX_NODE_TIMEOUT: Duration = Duration::from_millis(50);

/// Deletes the key only if it still holds our token, so a late release never
/// frees a lock that has since passed to someone else.
const RELEASE_SCRIPT: &str = r#"
if redis.call("GET", KEYS[1]) == ARGV[1] then
    return redis.call("DEL", KEYS[1])
end
return 0"#;
/// Resets the TTL of each key that still holds our token: `KEYS[i]` with token
/// `ARGV[i]`, the TTL last; one answer (1 extended, 0 not) per key.
const EXTEND_ALL_SCRIPT: &str = r#"
local ttl = ARGV[#ARGV]
local out = {}
for i, key in ipairs(KEYS) do
    if redis.call("GET", key) == ARGV[i] then
        out[i] = redis.call("PEXPIRE", key, ttl)
    else
        out[i] = 0
    end
end
return out"#;
/// How many leases one [`EXTEND_ALL_SCRIPT`] call carries: a node runs a script
/// alone, so a call is kept to about a millisecond of its time.
const EXTEND_CHUNK: usize = 1_000;

/// A lock manager over N independent Redis nodes; cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Redlock {
    nodes: Vec<Node>,
    quorum: usize,
}

/// One Redis node: its client, and its URL without the password, for logs.
#[derive(Debug)]
struct Node {
    client: Client,
    shown: String,
}

/// A lock held on a majority of the nodes.
#[derive(Debug, Clone)]
pub struct Lease {
    /// The locked key, as given to [`Redlock::acquire`].
    pub key: String,
    /// The random value stored under the key; only its holder can extend or release it.
    pub token: String,
    /// Until when the lock is ours; past it, act as if it were lost.
    pub valid_until: Instant,
}

/// Why the lock manager could not be set up, in words for whoever runs the server.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// No node was configured: the operator sees that at least one URL is needed.
    #[error(
        "no Redis URL given for the distributed lock (give three or five to survive a node failure)"
    )]
    NoNodes,
    /// A URL could not be parsed: the operator sees which one (password hidden) and why.
    #[error("lock node {url} is not a Redis URL: {reason}")]
    BadUrl { url: String, reason: String },
}

impl Redlock {
    /// Sets up one client per URL and waits up to 2 s for them to connect.
    ///
    /// A node that does not answer yet is kept: its client goes on reconnecting
    /// and the node votes again once it is back. Only an empty list or a URL that
    /// does not parse is an error.
    pub async fn connect(urls: &[String]) -> Result<Redlock, LockError> {
        if urls.is_empty() {
            return Err(LockError::NoNodes);
        }
        let mut nodes = Vec::with_capacity(urls.len());
        for url in urls {
            nodes.push(Node::new(url)?);
        }
        for node in &nodes {
            // The handle is the connection task; it runs until `quit`.
            let _task = node.client.connect();
        }
        let deadline = Instant::now() + CONNECT_TIMEOUT;
        while Instant::now() < deadline && !nodes.iter().all(|n| n.client.is_connected()) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        for node in nodes.iter().filter(|n| !n.client.is_connected()) {
            tracing::warn!(
                node = %node.shown,
                "redlock: node not reachable yet; it votes once it is back"
            );
        }
        let quorum = nodes.len() / 2 + 1;
        Ok(Redlock { nodes, quorum })
    }

    /// How many nodes must agree for a lock: a strict majority.
    pub fn quorum(&self) -> usize {
        self.quorum
    }

    /// One attempt to lock `key` for `ttl`; `None` if a majority did not agree in time.
    ///
    /// Callers that want to wait retry after a short random delay, so that
    /// contenders who split the vote do not collide again.
    pub async fn acquire(&self, key: &str, ttl: Duration) -> Option<Lease> {
        let token = new_token();
        let ttl_ms = millis(ttl);
        let timeout = node_timeout(ttl);
        let start = Instant::now();
        let votes = self
            .on_every_node(timeout, "SET NX", {
                let (key, token) = (key.to_owned(), token.clone());
                move |client| {
                    let (key, token) = (key.clone(), token.clone());
                    async move {
                        let reply: Option<String> = client
                            .set(
                                key,
                                token,
                                Some(Expiration::PX(ttl_ms)),
                                Some(SetOptions::NX),
                                false,
                            )
                            .await?;
                        Ok(reply.is_some())
                    }
                }
            })
            .await;
        let lease = Lease {
            key: key.to_owned(),
            token,
            valid_until: start,
        };
        match validity(ttl, start.elapsed()) {
            Some(valid) if votes >= self.quorum => Some(Lease {
                valid_until: start + valid,
                ..lease
            }),
            _ => {
                tracing::debug!(
                    key,
                    votes,
                    quorum = self.quorum,
                    "redlock: lock not acquired"
                );
                self.unlock(&lease, timeout).await;
                None
            }
        }
    }

    /// Pushes the lease's end to `ttl` from now; `false` if the lease was lost or
    /// a majority did not agree in time, and then `lease` is left as it was.
    pub async fn extend(&self, lease: &mut Lease, ttl: Duration) -> bool {
        self.extend_all(std::slice::from_mut(lease), ttl, node_timeout(ttl))
            .await
            .first()
            .is_some_and(|extended| *extended)
    }

    /// Extends every lease in `leases` to `ttl` from now, with one script per
    /// node per thousand leases instead of one round trip per lease per node:
    /// what an owner of thousands of locks needs to keep them all. Each node may
    /// take up to `wait` to answer, so a busy node costs time, not the leases.
    /// Returns, lease by lease, whether it was extended (its `valid_until` then
    /// moved); a lease not extended is left as it was.
    pub async fn extend_all(
        &self,
        leases: &mut [Lease],
        ttl: Duration,
        wait: Duration,
    ) -> Vec<bool> {
        let start = Instant::now();
        let ttl_ms = millis(ttl);
        let options = once(wait);
        let mut calls = JoinSet::new();
        for node in &self.nodes {
            for (chunk_index, chunk) in leases.chunks(EXTEND_CHUNK).enumerate() {
                let client = node.client.with_options(&options);
                let shown = node.shown.clone();
                let mut all = Vec::with_capacity(2 * chunk.len() + 3);
                all.push(Value::from(EXTEND_ALL_SCRIPT));
                all.push(Value::from(chunk.len() as i64));
                all.extend(chunk.iter().map(|l| Value::from(l.key.clone())));
                all.extend(chunk.iter().map(|l| Value::from(l.token.clone())));
                all.push(Value::from(ttl_ms));
                let size = chunk.len();
                calls.spawn(async move {
                    let command = CustomCommand::new_static("EVAL", ClusterHash::Offset(2), false);
                    let call = client.custom::<Vec<i64>, _>(command, all);
                    let answers = match tokio::time::timeout(wait + MIN_NODE_TIMEOUT, call).await {
                        Ok(Ok(answers)) if answers.len() == size => answers,
                        Ok(Ok(_)) => {
                            tracing::debug!(node = %shown, "redlock: extend_all answered the wrong length");
                            vec![0; size]
                        }
                        Ok(Err(e)) => {
                            tracing::debug!(node = %shown, error = %e, "redlock: extend_all failed");
                            vec![0; size]
                        }
                        Err(_) => {
                            tracing::debug!(node = %shown, "redlock: extend_all timed out");
                            vec![0; size]
                        }
                    };
                    (chunk_index, answers)
                });
            }
        }
        let mut votes = vec![0_usize; leases.len()];
        for (chunk_index, answers) in calls.join_all().await {
            let offset = chunk_index * EXTEND_CHUNK;
            for (i, answer) in answers.into_iter().enumerate() {
                votes[offset + i] += usize::from(answer == 1);
            }
        }
        let now = Instant::now();
        let valid = validity(ttl, start.elapsed());
        leases
            .iter_mut()
            .zip(votes)
            .map(|(lease, votes)| match valid {
                // As in `extend`: past the old end, a majority may have let it go.
                Some(valid) if votes >= self.quorum && now < lease.valid_until => {
                    lease.valid_until = start + valid;
                    true
                }
                _ => false,
            })
            .collect()
    }

    /// Gives the lock back on every node; a node that fails keeps the key until its TTL.
    pub async fn release(&self, lease: &Lease) {
        self.unlock(lease, MAX_NODE_TIMEOUT).await;
    }

    /// Closes every node's connection and stops its reconnecting.
    pub async fn quit(&self) {
        for node in &self.nodes {
            if let Err(e) = node.client.quit().await {
                tracing::debug!(node = %node.shown, error = %e, "redlock: quit failed");
            }
        }
    }

    async fn unlock(&self, lease: &Lease, timeout: Duration) {
        let (key, token) = (lease.key.clone(), lease.token.clone());
        self.on_every_node(timeout, "release", move |client| {
            eval(
                client,
                RELEASE_SCRIPT,
                key.clone(),
                vec![Value::from(token.clone())],
            )
        })
        .await;
    }

    /// Runs `op` on every node at once and counts the nodes that answered yes;
    /// an error or a timeout is a no, logged at debug.
    async fn on_every_node<F, Fut>(&self, timeout: Duration, what: &'static str, op: F) -> usize
    where
        F: Fn(WithOptions<Client>) -> Fut,
        Fut: Future<Output = Result<bool, Error>> + Send + 'static,
    {
        let options = once(timeout);
        let mut calls = JoinSet::new();
        for node in &self.nodes {
            let call = op(node.client.with_options(&options));
            let shown = node.shown.clone();
            calls.spawn(async move {
                // fred enforces `timeout` itself; this one only guards against a stuck call.
                match tokio::time::timeout(timeout + MIN_NODE_TIMEOUT, call).await {
                    Ok(Ok(yes)) => yes,
                    Ok(Err(e)) => {
                        tracing::debug!(node = %shown, error = %e, "redlock: {what} failed");
                        false
                    }
                    Err(_) => {
                        tracing::debug!(node = %shown, "redlock: {what} timed out");
                        false
                    }
                }
            });
        }
        calls
            .join_all()
            .await
            .into_iter()
            .filter(|yes| *yes)
            .count()
    }
}

impl Node {
    fn new(url: &str) -> Result<Node, LockError> {
        let shown = redact(url);
        let bad_url = |e: Error| LockError::BadUrl {
            url: shown.clone(),
            reason: e.details().to_owned(),
        };
        let mut config = Config::from_url(url).map_err(bad_url)?;
        // Keep retrying a node that is down at start instead of giving up on it.
        config.fail_fast = false;
        let client = Builder::from_config(config)
            .with_connection_config(|c| {
                c.connection_timeout = CONNECT_TIMEOUT;
                c.max_command_attempts = 1;
                // Every node's vote is a round trip the lock waits for: sent at once.
                c.tcp.nodelay = Some(true);
            })
            .with_performance_config(|p| p.default_command_timeout = MAX_NODE_TIMEOUT)
            // Back off from 100 ms to 2 s, forever: a node that comes back votes again.
            .set_policy(ReconnectPolicy::new_exponential(0, 100, 2_000, 2))
            .build()
            .map_err(bad_url)?;
        Ok(Node { client, shown })
    }
}

/// EVAL through `custom`, because fred 10's `WithOptions` has no Lua interface
/// and a script must obey the same timeout and fail-fast options as `SET`.
async fn eval(
    client: WithOptions<Client>,
    script: &'static str,
    key: String,
    args: Vec<Value>,
) -> Result<bool, Error> {
    let command = CustomCommand::new_static("EVAL", ClusterHash::Offset(2), false);
    let mut all = vec![Value::from(script), Value::from(1_i64), Value::from(key)];
    all.extend(args);
    let changed: i64 = client.custom(command, all).await?;
    Ok(changed == 1)
}

/// A command's options on a lock node: written at most once, failing rather
/// than waiting for a reconnect, answered within `timeout` or counted as a no.
fn once(timeout: Duration) -> Options {
    Options {
        timeout: Some(timeout),
        max_attempts: Some(1),
        fail_fast: true,
        ..Options::default()
    }
}

/// How long the lock is ours after a vote that took `elapsed`, minus the allowance
/// for clock drift between nodes; `None` when nothing is left.
fn validity(ttl: Duration, elapsed: Duration) -> Option<Duration> {
    let drift = ttl / 100 + Duration::from_millis(2);
    ttl.checked_sub(elapsed)?
        .checked_sub(drift)
        .filter(|left| !left.is_zero())
}

/// A tenth of the TTL, within [`MIN_NODE_TIMEOUT`] and [`MAX_NODE_TIMEOUT`].
fn node_timeout(ttl: Duration) -> Duration {
    (ttl / 10).clamp(MIN_NODE_TIMEOUT, MAX_NODE_TIMEOUT)
}

/// `PX` takes whole milliseconds; a TTL under 1 ms cannot be valid anyway (see [`validity`]).
fn millis(ttl: Duration) -> i64 {
    i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX).max(1)
}

/// 20 random bytes in hex, from the thread's cryptographic generator: nobody can
/// guess another holder's token.
fn new_token() -> String {
    let bytes: [u8; 20] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The URL with any user and password replaced by `***`, for logs and errors.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
    match authority.rfind('@') {
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::process::{Child, Command, Stdio};
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    /// A `redis-server` child, killed when dropped.
    struct RedisProcess(Child);

    impl Drop for RedisProcess {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    /// Three (or more) throw-away Redis nodes on spare loopback ports.
    struct Nodes {
        ports: Vec<u16>,
        running: Vec<Option<RedisProcess>>,
    }

    impl Nodes {
        async fn start(n: usize) -> Nodes {
            let ports: Vec<u16> = (0..n).map(|_| spare_port()).collect();
            let mut nodes = Nodes {
                running: (0..n).map(|_| None).collect(),
                ports,
            };
            for i in 0..n {
                nodes.restart(i).await;
            }
            nodes
        }

        async fn restart(&mut self, i: usize) {
            let port = self.ports[i];
            let child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server is on PATH");
            self.running[i] = Some(RedisProcess(child));
            wait_until_it_answers(port).await;
        }

        fn kill(&mut self, i: usize) {
            self.running[i] = None;
        }

        fn urls(&self) -> Vec<String> {
            self.ports
                .iter()
                .map(|p| format!("redis://127.0.0.1:{p}"))
                .collect()
        }
    }

    fn spare_port() -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind port 0");
        listener.local_addr().expect("local address").port()
    }

    async fn wait_until_it_answers(port: u16) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)).await {
                let mut reply = [0_u8; 7];
                if stream.write_all(b"PING\r\n").await.is_ok()
                    && stream.read_exact(&mut reply).await.is_ok()
                    && &reply == b"+PONG\r\n"
                {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("redis-server on port {port} did not answer within 5 s");
    }

    async fn lock_over(nodes: &Nodes) -> Redlock {
        Redlock::connect(&nodes.urls()).await.expect("valid URLs")
    }

    #[tokio::test]
    async fn only_one_of_twenty_concurrent_contenders_gets_the_lock() {
        let nodes = Nodes::start(3).await;
        let lock = Arc::new(lock_over(&nodes).await);
        let start = Arc::new(tokio::sync::Barrier::new(20));
        let mut contenders = JoinSet::new();
        for _ in 0..20 {
            let (lock, start) = (lock.clone(), start.clone());
            contenders.spawn(async move {
                start.wait().await;
                // Keep trying (as a real caller would) well after someone won,
                // so a second winner would show up.
                let deadline = Instant::now() + Duration::from_secs(1);
                let mut won = 0;
                while Instant::now() < deadline {
                    if lock
                        .acquire("contested", Duration::from_secs(10))
                        .await
                        .is_some()
                    {
                        won += 1;
                    }
                    let jitter = rand::random::<u64>() % 20;
                    tokio::time::sleep(Duration::from_millis(5 + jitter)).await;
                }
                won
            });
        }
        let wins: usize = contenders.join_all().await.into_iter().sum();
        assert_eq!(wins, 1, "exactly one contender may hold the lock");
    }

    #[tokio::test]
    async fn lock_is_taken_with_one_node_of_three_down_but_not_with_two_down() {
        let mut nodes = Nodes::start(3).await;
        let lock = lock_over(&nodes).await;
        assert_eq!(lock.quorum(), 2);
        let ttl = Duration::from_millis(500);

        nodes.kill(0);
        let lease = lock.acquire("one-down", ttl).await;
        assert!(lease.is_some(), "two of three nodes are a majority");

        nodes.kill(1);
        assert!(
            lock.acquire("two-down", ttl).await.is_none(),
            "one node of three is not a majority"
        );
    }

    #[tokio::test]
    async fn another_contender_gets_the_lock_only_after_the_ttl_expires() {
        let nodes = Nodes::start(3).await;
        let (first, second) = (lock_over(&nodes).await, lock_over(&nodes).await);
        let ttl = Duration::from_millis(300);

        let lease = first.acquire("expiring", ttl).await.expect("free lock");
        assert!(lease.valid_until > Instant::now());
        assert!(
            second.acquire("expiring", ttl).await.is_none(),
            "held until the TTL runs out"
        );

        tokio::time::sleep(ttl + Duration::from_millis(50)).await;
        assert!(
            second.acquire("expiring", ttl).await.is_some(),
            "free once the TTL ran out"
        );
    }

    #[tokio::test]
    async fn extending_keeps_the_lock_past_its_ttl_and_a_wrong_or_expired_token_cannot_extend() {
        let nodes = Nodes::start(3).await;
        let (holder, other) = (lock_over(&nodes).await, lock_over(&nodes).await);
        let ttl = Duration::from_millis(300);

        let mut lease = holder.acquire("extended", ttl).await.expect("free lock");
        let first_end = lease.valid_until;
        for _ in 0..5 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            assert!(
                holder.extend(&mut lease, ttl).await,
                "the holder may extend"
            );
        }
        assert!(lease.valid_until > first_end + Duration::from_millis(300));
        assert!(
            other.acquire("extended", ttl).await.is_none(),
            "500 ms after a 300 ms lock, extending kept it held"
        );

        let mut forged = Lease {
            token: new_token(),
            ..lease.clone()
        };
        assert!(
            !other.extend(&mut forged, ttl).await,
            "a wrong token cannot extend"
        );

        tokio::time::sleep(ttl + Duration::from_millis(50)).await;
        assert!(
            !holder.extend(&mut lease, ttl).await,
            "an expired lease cannot extend"
        );
        assert!(other.acquire("extended", ttl).await.is_some());
    }

    #[tokio::test]
    async fn extend_all_keeps_every_held_lease_across_chunks_and_refuses_the_rest() {
        let mut nodes = Nodes::start(3).await;
        let (holder, other) = (lock_over(&nodes).await, lock_over(&nodes).await);
        let ttl = Duration::from_millis(1_500);
        // More than one script's worth, so that the chunks' answers are put
        // back in the right places.
        let n = EXTEND_CHUNK + 200;
        let mut leases = Vec::with_capacity(n + 1);
        for i in 0..n {
            leases.push(
                holder
                    .acquire(&format!("many:{i}"), ttl)
                    .await
                    .expect("free lock"),
            );
        }
        // One lease whose token is not the one stored: it must not be extended.
        let stolen = other.acquire("many:stolen", ttl).await.expect("free lock");
        leases.push(Lease {
            token: new_token(),
            ..stolen
        });
        let ends: Vec<Instant> = leases.iter().map(|l| l.valid_until).collect();
        tokio::time::sleep(Duration::from_millis(200)).await;
        nodes.kill(2);
        let extended = holder
            .extend_all(&mut leases, ttl, Duration::from_millis(500))
            .await;
        assert_eq!(extended.len(), n + 1);
        assert!(
            extended[..n].iter().all(|yes| *yes),
            "every held lease is extended with one node of three down"
        );
        assert!(!extended[n], "a wrong token extends nothing");
        assert!(
            leases[..n]
                .iter()
                .zip(&ends)
                .all(|(l, end)| l.valid_until > *end)
        );
        assert_eq!(
            leases[n].valid_until, ends[n],
            "a refused lease is left as it was"
        );

        // Past the first TTL, the extended locks are still held.
        tokio::time::sleep(Duration::from_millis(1_400)).await;
        for i in [0, EXTEND_CHUNK - 1, EXTEND_CHUNK, n - 1] {
            assert!(
                other.acquire(&format!("many:{i}"), ttl).await.is_none(),
                "lease {i} was extended"
            );
        }

        nodes.kill(1);
        let extended = holder
            .extend_all(&mut leases, ttl, Duration::from_millis(200))
            .await;
        assert!(
            extended.iter().all(|yes| !yes),
            "with two nodes of three down, nothing is extended"
        );
    }

    #[tokio::test]
    async fn release_frees_the_lock_and_a_stale_lease_cannot_release_someone_elses_lock() {
        let nodes = Nodes::start(3).await;
        let (first, second) = (lock_over(&nodes).await, lock_over(&nodes).await);
        let long = Duration::from_secs(10);

        let lease = first.acquire("released", long).await.expect("free lock");
        first.release(&lease).await;
        assert!(
            second.acquire("released", long).await.is_some(),
            "free right after release, long before the TTL"
        );

        let short = Duration::from_millis(200);
        let stale = first.acquire("handed-on", short).await.expect("free lock");
        tokio::time::sleep(short + Duration::from_millis(50)).await;
        let current = second
            .acquire("handed-on", long)
            .await
            .expect("expired lock");
        first.release(&stale).await;
        assert!(
            first.acquire("handed-on", long).await.is_none(),
            "the stale release left the new holder's lock alone"
        );
        second.release(&current).await;
        assert!(first.acquire("handed-on", long).await.is_some());
    }

    #[tokio::test]
    async fn connect_tolerates_a_node_down_at_start_and_uses_it_once_it_comes_back() {
        let mut nodes = Nodes::start(3).await;
        nodes.kill(2);
        let lock = lock_over(&nodes).await;
        nodes.kill(1);
        let ttl = Duration::from_millis(500);
        assert!(
            lock.acquire("comeback", ttl).await.is_none(),
            "one of three is no majority"
        );

        nodes.restart(2).await;
        // The reconnect back-off tops out at 2 s.
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut lease = None;
        while lease.is_none() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
            lease = lock.acquire("comeback", ttl).await;
        }
        assert!(lease.is_some(), "the node that came back votes again");
        let quit = tokio::time::timeout(Duration::from_secs(1), lock.quit()).await;
        assert!(quit.is_ok(), "quit does not hang on a dead node");
    }

    #[tokio::test]
    async fn connect_rejects_an_empty_list_and_a_malformed_url() {
        assert!(matches!(
            Redlock::connect(&[]).await,
            Err(LockError::NoNodes)
        ));
        let urls = ["redis://127.0.0.1:6379".to_owned(), "not a url".to_owned()];
        assert!(matches!(
            Redlock::connect(&urls).await,
            Err(LockError::BadUrl { .. })
        ));
    }

    #[test]
    fn logged_urls_hide_the_password() {
        assert_eq!(
            redact("redis://user:secret@host:6379/0"),
            "redis://***@host:6379/0"
        );
        assert_eq!(redact("redis://host:6379"), "redis://host:6379");
    }

    #[test]
    fn validity_leaves_room_for_drift_and_runs_out() {
        let ttl = Duration::from_millis(1000);
        assert_eq!(
            validity(ttl, Duration::from_millis(8)),
            Some(Duration::from_millis(980))
        );
        assert_eq!(validity(ttl, Duration::from_millis(988)), None);
        assert_eq!(validity(ttl, Duration::from_secs(2)), None);
    }
}
