//! `eduscale bench arena`: battles at scale, across instances.
//!
//! Starts `--instances` servers (this binary, `serve`) over a scratch database
//! and a fresh Redis prefix (or targets running ones with `--url`, using the
//! configured database and Redis), signs in `--clients` people (sessions
//! written straight to the store: hashing 10,000 passwords would take minutes),
//! seats them in battles of `--room`, each battle spread over the instances,
//! and drives a typing trace: every player sends `--rate` events a second,
//! mostly batches of typed text (what a browser sends every ~50 ms while
//! someone types), now and then a run of the visible tests or a submission.
//! Every socket applies every delta with `core::battle::apply` and checks the
//! hash, as the browser does.
//!
//! Figures:
//! - `latency_ms`: from sending an edit to each room member (its sender
//!   included) having applied the delta that carries it (the edit's text
//!   starts with its send time, so each member times it on its own);
//! - `deliveries_per_s`: deltas applied by all sockets, per second;
//! - `bytes_per_client_per_s`: what the deltas cost on the wire, and what the
//!   same trace would cost if every change resent the whole state;
//! - `rss_kb_per_socket`: the instances' resident memory with every socket
//!   connected and seated, less before any, per socket;
//! - `desyncs`: deltas that did not apply because the copy disagreed with
//!   the server (a bad op or a wrong hash): the socket then takes a snapshot;
//! - `gaps`: deltas that arrived after one the socket never got (its outbox
//!   overflowed, and the server said `Resync`): the socket catches up from the
//!   seq it holds, as the browser does, and the wait counts in the latency;
//! - `resyncs`: how often the server told a socket it had dropped messages;
//! - `refused`: the refusals and errors the sockets heard, by kind. Under load
//!   some runs are `error Unavailable` (the runner stayed full for the run's
//!   ten seconds of patience) or `refused Busy` (the last run is still being
//!   judged); a refused edit or join would be a bug;
//! - `stuck_sockets`: sockets that had not handed in their figures 10 s after
//!   the measurement ended (their figures are missing; there should be none).

use super::{quantile, round3};
use crate::config::Config;
use eduscale_core::battle::{ApplyError, BattleState, Mode, Op, Phase, Settings, TextEdit, apply};
use eduscale_core::code::Language;
use eduscale_core::protocol::{
    self, BINARY_SUBPROTOCOL, ClientMsg, Encoding, Frame, PlayerAction, ServerMsg,
};
use futures_util::{SinkExt, StreamExt};
use rand::Rng;
use serde_json::json;
use sqlx::{Connection, Executor, PgPool};
use std::collections::HashMap;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use uuid::Uuid;

/// `eduscale bench arena` options.
#[derive(Debug, clap::Args)]
pub struct ArenaBenchArgs {
    /// Server instances to start (ignored with --url).
    #[arg(long, default_value_t = 2)]
    pub instances: usize,
    /// Sockets (one player each).
    #[arg(long, default_value_t = 1_000)]
    pub clients: usize,
    /// Players per battle.
    #[arg(long, default_value_t = 2)]
    pub room: usize,
    /// Events per player per second.
    #[arg(long, default_value_t = 1.0)]
    pub rate: f64,
    /// Share of player events that are runs of the visible tests or submissions
    /// (five runs to two submissions), the rest typing. 0 leaves the runner out,
    /// to tell its share of the latency from the relay's.
    #[arg(long, default_value_t = 0.007)]
    pub judged: f64,
    /// Seconds of trace, after everyone is seated.
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,
    /// Running instances to target, comma-separated (`http://host:port`); they
    /// must share the configured database and Redis prefix.
    #[arg(long, value_delimiter = ',')]
    pub url: Vec<String>,
    /// Print the figures as one JSON object (the only output format).
    #[arg(long)]
    pub json: bool,
    /// Also print, to stderr, the latency of every half second of the trace
    /// (samples, p50, p99, max): a stall shows as a bad half second, where
    /// the overall percentiles only say that something was slow.
    #[arg(long)]
    pub timeline: bool,
}

/// A deployment under test.
struct Target {
    db: PgPool,
    redis: eduscale_server::redis::Redis,
    addrs: Vec<String>,
    children: Vec<Child>,
    scratch: Option<(String, String)>,
}

impl Drop for Target {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Runs the benchmark and prints the JSON object.
pub async fn run(config: &Config, args: &ArenaBenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.room >= 2 && args.room <= 12, "--room is 2 to 12");
    anyhow::ensure!(
        args.clients >= args.room,
        "--clients must fill at least one room"
    );
    anyhow::ensure!(args.rate > 0.0, "--rate must be positive");
    anyhow::ensure!(
        (0.0..=1.0).contains(&args.judged),
        "--judged is a share, 0 to 1"
    );
    let target = deploy(config, args).await?;
    let result = measure(&target, args).await;
    target.db.close().await;
    let scratch = target.scratch.clone();
    let redis = target.redis.clone();
    // Stops the instances before their database and keys go.
    drop(target);
    if let Some((admin, scratch)) = scratch {
        if let Ok(mut c) = sqlx::PgConnection::connect(&admin).await {
            let _ = c
                .execute(format!("DROP DATABASE IF EXISTS {scratch} WITH (FORCE)").as_str())
                .await;
        }
        // Each run left 3 keys per battle behind (15,000 at 10,000 sockets),
        // and a Redis that grows from run to run skews the next one.
        if let Err(e) = forget_keys(&redis).await {
            eprintln!("could not delete the bench's Redis keys: {e}");
        }
    }
    redis.quit().await;
    println!("{}", result?);
    Ok(())
}

/// Deletes every key under the bench's own Redis prefix.
async fn forget_keys(redis: &eduscale_server::redis::Redis) -> Result<(), fred::error::Error> {
    use fred::prelude::*;
    let pool = &redis.pool;
    let keys: Vec<String> = pool
        .custom(
            fred::cmd!("KEYS"),
            vec![format!("{}*", redis.prefix.as_str())],
        )
        .await?;
    for chunk in keys.chunks(1_000) {
        let _: i64 = pool.unlink(chunk.to_vec()).await?;
    }
    Ok(())
}

async fn deploy(config: &Config, args: &ArenaBenchArgs) -> anyhow::Result<Target> {
    let pid = std::process::id();
    let prefix = if args.url.is_empty() {
        format!("bench-arena-{pid}:")
    } else {
        config.redis_prefix.clone()
    };
    let redis = eduscale_server::redis::Redis::connect(
        &config.redis_url,
        4,
        eduscale_server::redis::KeyPrefix::new(&prefix),
    )
    .await?;
    if !args.url.is_empty() {
        let db = eduscale_server::db::connect(&config.database_url, 8).await?;
        let addrs = args
            .url
            .iter()
            .map(|u| {
                u.trim_start_matches("http://")
                    .trim_end_matches('/')
                    .to_owned()
            })
            .collect();
        return Ok(Target {
            db,
            redis,
            addrs,
            children: Vec::new(),
            scratch: None,
        });
    }
    let scratch = format!("eduscale_bench_arena_{pid}");
    let url = super::with_database(&config.database_url, &scratch)?;
    let admin = super::with_database(&config.database_url, "postgres")?;
    let mut conn = sqlx::PgConnection::connect(&admin).await?;
    conn.execute(format!("DROP DATABASE IF EXISTS {scratch} WITH (FORCE)").as_str())
        .await?;
    conn.execute(format!("CREATE DATABASE {scratch}").as_str())
        .await?;
    let db = eduscale_server::db::connect(&url, 8).await?;
    eduscale_server::db::migrate(&db, &url).await?;
    let content = eduscale_server::paths::content::load(std::path::Path::new("content"))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    eduscale_server::paths::import::import(&db, &content).await?;
    let exe = std::env::current_exe()?;
    let mut children = Vec::new();
    let mut addrs = Vec::new();
    for i in 0..args.instances.max(1) {
        // Each instance's warnings, for a run that went wrong: the path is
        // printed at the start, and the file is left behind.
        let log_path = std::env::temp_dir().join(format!("eduscale-bench-arena-{pid}-{i}.log"));
        eprintln!("instance {i} logs to {}", log_path.display());
        let log = std::fs::File::create(&log_path)?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let addr = format!("127.0.0.1:{port}");
        let child = Command::new(&exe)
            .arg("serve")
            .env("DATABASE_URL", &url)
            .env("EDUSCALE_REDIS_PREFIX", &prefix)
            .env("LEPTOS_SITE_ADDR", &addr)
            .env("EDUSCALE_ARENA_COUNTDOWN_MS", "500")
            .env("EDUSCALE_DB_MAX_CONNECTIONS", "16")
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .spawn()?;
        children.push(child);
        addrs.push(addr);
    }
    let target = Target {
        db,
        redis,
        addrs,
        children,
        scratch: Some((admin, scratch)),
    };
    for addr in &target.addrs {
        wait_ready(addr).await?;
    }
    Ok(target)
}

async fn wait_ready(addr: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        if let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let request =
                format!("GET /readyz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
            if stream.write_all(request.as_bytes()).await.is_ok() {
                let mut reply = Vec::new();
                let _ = stream.read_to_end(&mut reply).await;
                if reply.starts_with(b"HTTP/1.1 200") {
                    return Ok(());
                }
            }
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(120),
            "the instance at {addr} never got ready"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Resident memory of `pid`, in KiB.
fn rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn total_rss(target: &Target) -> Option<u64> {
    if target.children.is_empty() {
        return None;
    }
    target.children.iter().map(|c| rss_kb(c.id())).sum()
}

/// Where the run is; every socket follows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Sockets connect, join, ready up and type their starting document.
    Seating,
    /// The measured trace: every player types, runs and submits.
    Trace,
    /// Sending is over; what is still in flight arrives and is measured.
    Draining,
    /// The measurement is over: hand in the tally and close.
    Over,
}

/// What one socket measured, kept by the socket and handed in once, at the
/// end. With 10,000 sockets on two cores, a shared map of edits in flight and
/// shared counters touched at every delivery cost the bench (and so the
/// servers it shares the cores with) a lock or a contended cache line each.
#[derive(Default)]
struct Tally {
    /// When each latency was measured, and the latency.
    latencies: Vec<(Instant, Duration)>,
    deliveries: u64,
    delta_bytes: u64,
    full_bytes: u64,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.latencies.extend(other.latencies);
        self.deliveries += other.deliveries;
        self.delta_bytes += other.delta_bytes;
        self.full_bytes += other.full_bytes;
    }
}

/// What every socket adds to: the tallies handed in, and what happens rarely.
#[derive(Default)]
struct Stats {
    tally: Mutex<Tally>,
    desyncs: AtomicU64,
    gaps: AtomicU64,
    resyncs: AtomicU64,
    seated: AtomicU64,
    /// What the servers refused or answered with an error, by kind (a run
    /// while the last is judged is refused `busy`; anything else is news).
    refused: Mutex<HashMap<String, u64>>,
    /// Why sockets gave up (a failed connect, a closed socket), the first few.
    failures: Mutex<Vec<String>>,
}

impl Stats {
    fn refused(&self, kind: String) {
        *lock(&self.refused).entry(kind).or_default() += 1;
    }

    fn failed(&self, why: String) {
        let mut failures = lock(&self.failures);
        if failures.len() < 5 {
            failures.push(why);
        }
    }
}

/// Locks `m` even if a socket's task panicked while holding it: the figures
/// gathered so far stay readable.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The typed program every player starts from (a realistic starting document).
pub(super) const STARTER: &str = "import sys\n\n\ndef solve(data):\n    \"\"\"Read the input, compute, return the answer.\"\"\"\n    numbers = [int(x) for x in data.split()]\n    total = 0\n    for n in numbers:\n        total += n\n    return total\n\n\ndef main():\n    data = sys.stdin.read()\n    print(solve(data))\n\n\nif __name__ == \"__main__\":\n    main()\n";

async fn measure(target: &Target, args: &ArenaBenchArgs) -> anyhow::Result<serde_json::Value> {
    let people = seed_people(target, args.clients).await?;
    let battles = seed_battles(target, &people, args.room).await?;
    let rss_before = total_rss(target);
    let stats = Arc::new(Stats::default());
    let (stage, following) = watch::channel(Stage::Seating);
    let base = Instant::now();
    let connecting = Arc::new(Semaphore::new(256));
    let mut tasks = Vec::with_capacity(people.len());
    for (i, (user, cookie)) in people.iter().enumerate() {
        let room = i / args.room;
        let Some(&battle) = battles.get(room) else {
            break;
        };
        let seat = i % args.room;
        let addr = target.addrs[(room + seat) % target.addrs.len()].clone();
        let player = Player {
            user: *user,
            cookie: cookie.clone(),
            addr,
            battle,
            room_size: args.room,
            measures_full: seat == 0,
            rate: args.rate,
            judged: args.judged,
            base,
            stats: stats.clone(),
            stage: following.clone(),
            connecting: connecting.clone(),
        };
        tasks.push(tokio::spawn(player.play()));
    }
    let seats = tasks.len() as u64;
    // Seating goes on while sockets keep being seated; a minute with none
    // seated means some never will be: say why rather than wait.
    let mut progress = (0, Instant::now());
    while stats.seated.load(Ordering::Relaxed) < seats {
        let seated = stats.seated.load(Ordering::Relaxed);
        if seated != progress.0 {
            progress = (seated, Instant::now());
        }
        anyhow::ensure!(
            progress.1.elapsed() < Duration::from_secs(60),
            "only {seated} of {seats} sockets were seated, and none for a minute; \
             refused: {:?}; sockets that gave up: {:?}",
            lock(&stats.refused),
            lock(&stats.failures),
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Everyone is connected and in a running battle: what the sockets cost.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_after = total_rss(target);
    let trace_start = Instant::now();
    if args.timeline {
        // For lining the timeline up with the instances' logs and other traces.
        let unix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        eprintln!("trace began at {:.3} (Unix time)", unix.as_secs_f64());
    }
    stage.send_replace(Stage::Trace);
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    stage.send_replace(Stage::Draining);
    let elapsed = trace_start.elapsed().as_secs_f64();
    // Let what is in flight arrive.
    tokio::time::sleep(Duration::from_secs(2)).await;
    stage.send_replace(Stage::Over);
    // Every socket hands in its tally and closes; one that does not within
    // a few seconds is stuck, and its figures are lost (counted below).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut stuck = 0;
    for mut task in tasks {
        if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
            task.abort();
            stuck += 1;
        }
    }
    let tally = std::mem::take(&mut *lock(&stats.tally));
    if args.timeline {
        print_timeline(trace_start, &tally.latencies);
    }
    let mut latencies: Vec<Duration> = tally.latencies.iter().map(|(_, took)| *took).collect();
    latencies.sort_unstable();
    let at = |q: f64| quantile(&latencies, q, 1e-3);
    let per_client = |bytes: u64| round3(bytes as f64 / seats as f64 / elapsed);
    let (delta, full) = (tally.delta_bytes, tally.full_bytes);
    Ok(json!({
        "clients": seats,
        "instances": target.addrs.len(),
        "room": args.room,
        "rate": args.rate,
        "judged": args.judged,
        "latency_ms": {"p50": at(0.5), "p99": at(0.99), "p999": at(0.999)},
        "samples": latencies.len(),
        "deliveries_per_s": round3(tally.deliveries as f64 / elapsed),
        "bytes_per_client_per_s": {"delta": per_client(delta), "full_state": per_client(full)},
        "delta_ratio": if full == 0 { 0.0 } else { round3(delta as f64 / full as f64) },
        "rss_kb_per_socket": match (rss_before, rss_after) {
            (Some(b), Some(a)) => json!(round3(a.saturating_sub(b) as f64 / seats as f64)),
            _ => serde_json::Value::Null,
        },
        "desyncs": stats.desyncs.load(Ordering::Relaxed),
        "gaps": stats.gaps.load(Ordering::Relaxed),
        "resyncs": stats.resyncs.load(Ordering::Relaxed),
        "refused": lock(&stats.refused).clone(),
        "stuck_sockets": stuck,
    }))
}

/// Prints the latency of each half second of the trace to stderr.
fn print_timeline(trace_start: Instant, samples: &[(Instant, Duration)]) {
    let mut by_half_second: std::collections::BTreeMap<u128, Vec<Duration>> = Default::default();
    for (at, took) in samples {
        if let Some(since) = at.checked_duration_since(trace_start) {
            by_half_second
                .entry(since.as_millis() / 500)
                .or_default()
                .push(*took);
        }
    }
    for (half, mut took) in by_half_second {
        took.sort_unstable();
        let at = |q: f64| quantile(&took, q, 1e-3);
        eprintln!(
            "t={:5.1}s samples={:6} p50={:7.1}ms p99={:7.1}ms max={:7.1}ms",
            half as f64 / 2.0,
            took.len(),
            at(0.5),
            at(0.99),
            at(1.0)
        );
    }
}

/// Makes `n` learners (one shared, unusable password hash: nobody logs in with
/// it) and a session for each; their ids and cookies.
async fn seed_people(target: &Target, n: usize) -> anyhow::Result<Vec<(Uuid, String)>> {
    let tag = Uuid::new_v4().simple().to_string();
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "INSERT INTO users (email, display_name, password_hash)
         SELECT 'bench' || i || '.' || $2 || '@bench.test', 'Bench ' || i, 'none'
         FROM generate_series(1, $1) AS i
         RETURNING id",
    )
    .bind(n as i64)
    .bind(&tag[..8])
    .fetch_all(&target.db)
    .await?;
    let mut people = Vec::with_capacity(n);
    for chunk in ids.chunks(500) {
        let minted = futures_util::future::join_all(chunk.iter().map(|id| {
            eduscale_server::auth::session::mint(&target.redis, *id, Duration::from_secs(3600))
        }))
        .await;
        for (id, cookie) in chunk.iter().zip(minted) {
            people.push((*id, cookie.map_err(|e| anyhow::anyhow!("{e}"))?));
        }
    }
    Ok(people)
}

/// One public battle per room of `room` people, made by its first.
async fn seed_battles(
    target: &Target,
    people: &[(Uuid, String)],
    room: usize,
) -> anyhow::Result<Vec<u64>> {
    let mode = if room == 2 { Mode::Duel } else { Mode::Group };
    let mut settings = Settings::standard(mode, true);
    settings.capacity = room as u8;
    settings.countdown_ms = 500;
    settings.duration_ms = 60 * 60_000;
    let mut battles = Vec::new();
    for (i, chunk) in people.chunks_exact(room).enumerate() {
        let id = eduscale_server::arena::store::create(&target.db, &code(i), &settings, chunk[0].0)
            .await?;
        battles.push(id);
    }
    Ok(battles)
}

/// The invite code of room `i` (codes are unique).
fn code(i: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut n = i;
    (0..6)
        .map(|_| {
            let c = ALPHABET[n % ALPHABET.len()] as char;
            n /= ALPHABET.len();
            c
        })
        .collect()
}

/// One player's socket.
struct Player {
    user: Uuid,
    cookie: String,
    addr: String,
    battle: u64,
    room_size: usize,
    measures_full: bool,
    rate: f64,
    /// Share of events that are runs or submissions.
    judged: f64,
    /// What the send times in typed edits count from.
    base: Instant,
    stats: Arc<Stats>,
    stage: watch::Receiver<Stage>,
    connecting: Arc<Semaphore>,
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn send(socket: &mut Socket, msg: &ClientMsg) -> bool {
    match protocol::encode(msg, Encoding::Binary) {
        Frame::Binary(bytes) => socket.send(Message::Binary(bytes.into())).await.is_ok(),
        Frame::Text(_) => false,
    }
}

/// The next tick of `ticker`, or never while there is none.
async fn tick(ticker: &mut Option<tokio::time::Interval>) {
    match ticker {
        Some(ticker) => {
            ticker.tick().await;
        }
        None => std::future::pending().await,
    }
}

impl Player {
    /// Connects, plays through the run, and hands in what it measured.
    async fn play(mut self) {
        let user = self.user;
        let stats = self.stats.clone();
        let mut tally = Tally::default();
        let played = match self.connect().await {
            Ok(mut socket) => self.follow(&mut socket, &mut tally).await,
            Err(e) => Err(e),
        };
        if let Err(e) = played {
            stats.failed(format!("{user}: {e:#}"));
        }
        lock(&stats.tally).add(tally);
    }

    async fn connect(&self) -> anyhow::Result<Socket> {
        let _permit = self.connecting.acquire().await?;
        let mut request = format!("ws://{}/ws", self.addr).into_client_request()?;
        let headers = request.headers_mut();
        headers.insert(
            "cookie",
            format!("{}={}", eduscale_server::auth::session::COOKIE, self.cookie).parse()?,
        );
        headers.insert("sec-websocket-protocol", BINARY_SUBPROTOCOL.parse()?);
        // tungstenite zero-fills its whole read buffer (128 KiB by default)
        // before each read: with 10,000 sockets that was half the bench's own
        // CPU, taken from the servers it measures. Browsers also send without
        // Nagle's delay.
        let config = WebSocketConfig::default().read_buffer_size(4 << 10);
        Ok(
            tokio_tungstenite::connect_async_with_config(request, Some(config), true)
                .await?
                .0,
        )
    }

    /// One task per socket: it reads and applies every delta, answers what the
    /// battle asks (ready up, catch up) and types on its ticker, in turn.
    /// (Two tasks per socket, a reader and a writer talking over a channel,
    /// cost twice the wake-ups for nothing: a send is short.)
    async fn follow(&mut self, socket: &mut Socket, tally: &mut Tally) -> anyhow::Result<()> {
        let battle = self.battle;
        send(socket, &ClientMsg::Watch { battle, have: None }).await;
        let join = PlayerAction::Join {
            language: Language::Python,
        };
        send(
            socket,
            &ClientMsg::Play {
                battle,
                action: join,
            },
        )
        .await;
        let mut copy = Follower {
            me: self.user.to_string(),
            room_size: self.room_size,
            measures_full: self.measures_full,
            base: self.base,
            state: None,
            snapshot_tag: 0,
            told_full: false,
            told_running: false,
            asked: None,
        };
        let mut stage = Stage::Seating;
        let mut my_len = STARTER.len();
        let mut ticker = None;
        let period = Duration::from_secs_f64(1.0 / self.rate);
        loop {
            tokio::select! {
                message = socket.next() => {
                    let bytes = match message {
                        Some(Ok(Message::Binary(bytes))) => bytes,
                        Some(Ok(_)) => continue,
                        Some(Err(e)) => anyhow::bail!("the socket failed: {e}"),
                        None => anyhow::bail!("the server closed the socket"),
                    };
                    let counting = stage != Stage::Seating;
                    let tally = counting.then_some(&mut *tally);
                    if let Some(heard) = copy.take(&bytes, &self.stats, tally) {
                        self.answer(socket, heard).await;
                    }
                }
                changed = self.stage.changed() => {
                    if changed.is_err() {
                        return Ok(());
                    }
                    stage = *self.stage.borrow_and_update();
                    match stage {
                        Stage::Seating => {}
                        Stage::Trace => {
                            anyhow::ensure!(
                                copy.told_running,
                                "the trace began before the socket was seated"
                            );
                            ticker = Some(staggered(period));
                        }
                        // Done sending, but the socket stays open and keeps
                        // catching up until the measurement is over: 10,000
                        // sockets closing at once are a load of their own, and
                        // the edits still in flight were measured through it
                        // (their p50 went from 1 ms to 150).
                        Stage::Draining => ticker = None,
                        Stage::Over => return Ok(()),
                    }
                }
                () = tick(&mut ticker) => {
                    let action = next_action(self.base, self.judged, &mut my_len);
                    if !send(socket, &ClientMsg::Play { battle, action }).await {
                        anyhow::bail!("could not send to the server");
                    }
                }
            }
        }
    }

    /// Does what the battle asks: ready up, type the starting document once
    /// the battle runs (not measured), or catch up (at once, as the browser does).
    async fn answer(&self, socket: &mut Socket, heard: Heard) {
        let battle = self.battle;
        let msg = match heard {
            Heard::Full => ClientMsg::Play {
                battle,
                action: PlayerAction::Ready { ready: true },
            },
            Heard::Running => {
                self.stats.seated.fetch_add(1, Ordering::Relaxed);
                let edits = vec![TextEdit {
                    at: 0,
                    delete: 0,
                    insert: STARTER.to_owned(),
                }];
                ClientMsg::Play {
                    battle,
                    action: PlayerAction::Edit { edits },
                }
            }
            Heard::Lost(have) => ClientMsg::Watch { battle, have },
        };
        send(socket, &msg).await;
    }
}

/// A ticker of `period` whose first tick comes within one period, so that
/// 10,000 sockets do not send in waves.
fn staggered(period: Duration) -> tokio::time::Interval {
    let offset = period.mul_f64(rand::thread_rng().gen_range(0.0..1.0));
    tokio::time::interval_at(tokio::time::Instant::now() + offset, period)
}

/// A player's next move: mostly typing at the end of a document `my_len` long,
/// and a share `judged` of runs of the visible tests and submissions, five to two.
fn next_action(base: Instant, judged: f64, my_len: &mut usize) -> PlayerAction {
    let roll: f64 = rand::thread_rng().gen_range(0.0..1.0);
    if roll < judged * 2.0 / 7.0 {
        return PlayerAction::Submit;
    }
    if roll < judged {
        return PlayerAction::Run;
    }
    // The edit carries when it was sent: whoever applies it knows its latency
    // without asking anyone.
    let sent = base.elapsed().as_micros();
    let typed = "x".repeat(rand::thread_rng().gen_range(2..10));
    let edit = TextEdit {
        at: *my_len as u32,
        delete: 0,
        insert: format!("#{sent};{typed}\n"),
    };
    *my_len += edit.insert.len();
    PlayerAction::Edit { edits: vec![edit] }
}

/// What a message from the server asks of its socket.
#[derive(Debug, Clone, Copy)]
enum Heard {
    /// Everyone has joined: ready up.
    Full,
    /// The battle runs, with me among its players.
    Running,
    /// Watch again, from this seq (a gap, a resync) or afresh (a copy that
    /// went out of step).
    Lost(Option<u64>),
}

/// A socket's copy of its battle, kept as the browser keeps it.
struct Follower {
    me: String,
    room_size: usize,
    measures_full: bool,
    base: Instant,
    state: Option<BattleState>,
    /// The bytes of a snapshot beyond its state (the message's tag).
    snapshot_tag: usize,
    told_full: bool,
    told_running: bool,
    /// The seq a catch-up was asked from: asked once, as the browser does.
    asked: Option<u64>,
}

impl Follower {
    /// Takes one binary message; what the socket must do about it. Deliveries
    /// and latencies go to `tally` when given (in the trace).
    fn take(&mut self, bytes: &[u8], stats: &Stats, tally: Option<&mut Tally>) -> Option<Heard> {
        let msg =
            protocol::decode::<ServerMsg>(&Frame::Binary(bytes.to_vec()), Encoding::Binary).ok()?;
        match msg {
            ServerMsg::Resync { .. } => {
                stats.resyncs.fetch_add(1, Ordering::Relaxed);
                self.asked = self.state.as_ref().map(|s| s.seq);
                return Some(Heard::Lost(self.asked));
            }
            ServerMsg::BattleSnapshot(s) => {
                self.asked = None;
                self.snapshot_tag = bytes
                    .len()
                    .saturating_sub(postcard::experimental::serialized_size(&*s).unwrap_or(0));
                self.state = Some(*s);
            }
            ServerMsg::BattleDelta(delta) => {
                let current = self.state.as_mut()?;
                let now = Instant::now();
                match apply(current, &delta) {
                    Ok(()) => self.asked = None,
                    Err(ApplyError::Duplicate { .. }) => return None,
                    Err(ApplyError::Gap { have, .. }) => {
                        stats.gaps.fetch_add(1, Ordering::Relaxed);
                        if self.asked == Some(have) {
                            return None;
                        }
                        self.asked = Some(have);
                        return Some(Heard::Lost(Some(have)));
                    }
                    Err(_) => {
                        stats.desyncs.fetch_add(1, Ordering::Relaxed);
                        self.state = None;
                        self.asked = None;
                        return Some(Heard::Lost(None));
                    }
                }
                if let Some(tally) = tally {
                    tally.deliveries += 1;
                    tally.delta_bytes += bytes.len() as u64;
                    if self.measures_full {
                        // What a full-state message would have cost every
                        // member, counted without building one.
                        let full = self.snapshot_tag
                            + postcard::experimental::serialized_size(&*current).unwrap_or(0);
                        tally.full_bytes += (full * self.room_size) as u64;
                    }
                    for op in &delta.ops {
                        if let Op::Edit { edit, .. } = op
                            && let Some(sent) = edit
                                .insert
                                .strip_prefix('#')
                                .and_then(|t| t.split(';').next())
                                .and_then(|t| t.parse::<u64>().ok())
                        {
                            let sent = self.base + Duration::from_micros(sent);
                            tally
                                .latencies
                                .push((now, now.saturating_duration_since(sent)));
                        }
                    }
                }
            }
            // Counted by kind: the details ("try again in 2 s") vary.
            ServerMsg::BattleRefused { refusal, .. } => {
                let kind = format!("{refusal:?}");
                let kind = kind.split('(').next().unwrap_or_default();
                stats.refused(format!("refused {kind}"));
            }
            ServerMsg::Error { code, .. } => {
                stats.refused(format!("error {code:?}"));
            }
            _ => {}
        }
        let state = self.state.as_ref()?;
        if !self.told_full && state.players.len() == self.room_size {
            self.told_full = true;
            return Some(Heard::Full);
        }
        if !self.told_running
            && matches!(state.phase, Phase::Running { .. })
            && state.player_index(&self.me).is_some()
        {
            self.told_running = true;
            return Some(Heard::Running);
        }
        None
    }
}
