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
//!   included) having applied the delta that carries it;
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
//!   judged); a refused edit or join would be a bug.

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
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
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

/// An edit in flight: (battle, player, edit number).
type EditKey = (u64, u8, u64);

/// What every socket adds to.
#[derive(Default)]
struct Stats {
    /// Edits in flight → when sent, and how many members have yet to apply it.
    sent: Mutex<HashMap<EditKey, (Instant, usize)>>,
    /// When each latency was measured, and the latency.
    latencies: Mutex<Vec<(Instant, Duration)>>,
    deliveries: AtomicU64,
    delta_bytes: AtomicU64,
    full_bytes: AtomicU64,
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
}

/// Locks `m` even if a socket's task panicked while holding it: the figures
/// gathered so far stay readable.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The typed program every player starts from (a realistic starting document).
const STARTER: &str = "import sys\n\n\ndef solve(data):\n    \"\"\"Read the input, compute, return the answer.\"\"\"\n    numbers = [int(x) for x in data.split()]\n    total = 0\n    for n in numbers:\n        total += n\n    return total\n\n\ndef main():\n    data = sys.stdin.read()\n    print(solve(data))\n\n\nif __name__ == \"__main__\":\n    main()\n";

async fn measure(target: &Target, args: &ArenaBenchArgs) -> anyhow::Result<serde_json::Value> {
    let people = seed_people(target, args.clients).await?;
    let battles = seed_battles(target, &people, args.room).await?;
    let rss_before = total_rss(target);
    let stats = Arc::new(Stats::default());
    let stop = Arc::new(AtomicBool::new(false));
    let go = Arc::new(tokio::sync::Notify::new());
    let started_at = Arc::new(Mutex::new(None::<Instant>));
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
        };
        let (stats, stop, go, started_at, connecting) = (
            stats.clone(),
            stop.clone(),
            go.clone(),
            started_at.clone(),
            connecting.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let user = player.user;
            if let Err(e) = player
                .play(stats.clone(), stop, go, started_at, connecting)
                .await
            {
                let mut failures = lock(&stats.failures);
                if failures.len() < 5 {
                    failures.push(format!("{user}: {e:#}"));
                }
            }
        }));
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
    lock(&stats.latencies).clear();
    stats.deliveries.store(0, Ordering::Relaxed);
    stats.delta_bytes.store(0, Ordering::Relaxed);
    stats.full_bytes.store(0, Ordering::Relaxed);
    let trace_start = Instant::now();
    *lock(&started_at) = Some(trace_start);
    go.notify_waiters();
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let elapsed = trace_start.elapsed().as_secs_f64();
    // Let what is in flight arrive.
    tokio::time::sleep(Duration::from_secs(2)).await;
    for task in &tasks {
        task.abort();
    }
    let measured = std::mem::take(&mut *lock(&stats.latencies));
    if args.timeline {
        print_timeline(trace_start, &measured);
    }
    let mut latencies: Vec<Duration> = measured.into_iter().map(|(_, took)| took).collect();
    latencies.sort_unstable();
    let at = |q: f64| quantile(&latencies, q, 1e-3);
    let per_client = |bytes: u64| round3(bytes as f64 / seats as f64 / elapsed);
    let delta = stats.delta_bytes.load(Ordering::Relaxed);
    let full = stats.full_bytes.load(Ordering::Relaxed);
    Ok(json!({
        "clients": seats,
        "instances": target.addrs.len(),
        "room": args.room,
        "rate": args.rate,
        "latency_ms": {"p50": at(0.5), "p99": at(0.99), "p999": at(0.999)},
        "samples": latencies.len(),
        "deliveries_per_s": round3(stats.deliveries.load(Ordering::Relaxed) as f64 / elapsed),
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

/// What the reader tells the writer.
#[derive(Debug, Clone, Copy)]
enum Seated {
    /// Everyone has joined.
    Full,
    /// The battle runs; this is my index among the players.
    Running(u8),
    /// Watch again, from this seq (a gap, a resync) or afresh (a copy that
    /// went out of step).
    Lost(Option<u64>),
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
}

type Sink = futures_util::stream::SplitSink<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    Message,
>;

async fn send(sink: &mut Sink, msg: &ClientMsg) -> bool {
    match protocol::encode(msg, Encoding::Binary) {
        Frame::Binary(bytes) => sink.send(Message::Binary(bytes.into())).await.is_ok(),
        Frame::Text(_) => false,
    }
}

impl Player {
    async fn play(
        self,
        stats: Arc<Stats>,
        stop: Arc<AtomicBool>,
        go: Arc<tokio::sync::Notify>,
        started_at: Arc<Mutex<Option<Instant>>>,
        connecting: Arc<Semaphore>,
    ) -> anyhow::Result<()> {
        let socket = {
            let _permit = connecting.acquire().await?;
            let mut request = format!("ws://{}/ws", self.addr).into_client_request()?;
            let headers = request.headers_mut();
            headers.insert(
                "cookie",
                format!("{}={}", eduscale_server::auth::session::COOKIE, self.cookie).parse()?,
            );
            headers.insert("sec-websocket-protocol", BINARY_SUBPROTOCOL.parse()?);
            // tungstenite zero-fills its whole read buffer (128 KiB by default)
            // before each read: with 10,000 sockets that was half the bench's
            // own CPU, taken from the servers it measures. Browsers also send
            // without Nagle's delay.
            let config = WebSocketConfig::default().read_buffer_size(4 << 10);
            tokio_tungstenite::connect_async_with_config(request, Some(config), true)
                .await?
                .0
        };
        let (mut sink, mut stream) = socket.split();
        let battle = self.battle;
        send(&mut sink, &ClientMsg::Watch { battle, have: None }).await;
        send(
            &mut sink,
            &ClientMsg::Play {
                battle,
                action: PlayerAction::Join {
                    language: Language::Python,
                },
            },
        )
        .await;
        let me = self.user.to_string();
        let (to_writer, mut from_reader) = tokio::sync::mpsc::channel::<Seated>(4);
        let reader_stats = stats.clone();
        let room_size = self.room_size;
        let measures_full = self.measures_full;
        // The reader: applies every delta, and tells the writer when seated.
        let reader = tokio::spawn(async move {
            let mut state: Option<BattleState> = None;
            let mut snapshot_tag = 0;
            let mut told_ready = false;
            let mut told_running = false;
            // The seq a catch-up was asked from: asked once, as the browser does.
            let mut asked: Option<u64> = None;
            while let Some(Ok(message)) = stream.next().await {
                let Message::Binary(bytes) = message else {
                    continue;
                };
                let Ok(msg) =
                    protocol::decode::<ServerMsg>(&Frame::Binary(bytes.to_vec()), Encoding::Binary)
                else {
                    continue;
                };
                match msg {
                    ServerMsg::Resync { .. } => {
                        reader_stats.resyncs.fetch_add(1, Ordering::Relaxed);
                        let have = state.as_ref().map(|s| s.seq);
                        asked = have;
                        let _ = to_writer.send(Seated::Lost(have)).await;
                    }
                    ServerMsg::BattleSnapshot(s) => {
                        asked = None;
                        // The bytes of a snapshot beyond its state (the message's tag).
                        snapshot_tag = bytes.len().saturating_sub(
                            postcard::experimental::serialized_size(&*s).unwrap_or(0),
                        );
                        state = Some(*s);
                    }
                    ServerMsg::BattleDelta(delta) => {
                        let Some(current) = state.as_mut() else {
                            continue;
                        };
                        let now = Instant::now();
                        match apply(current, &delta) {
                            Ok(()) => asked = None,
                            Err(ApplyError::Duplicate { .. }) => continue,
                            Err(ApplyError::Gap { have, .. }) => {
                                reader_stats.gaps.fetch_add(1, Ordering::Relaxed);
                                if asked != Some(have) {
                                    asked = Some(have);
                                    let _ = to_writer.send(Seated::Lost(Some(have))).await;
                                }
                                continue;
                            }
                            Err(_) => {
                                reader_stats.desyncs.fetch_add(1, Ordering::Relaxed);
                                state = None;
                                asked = None;
                                let _ = to_writer.send(Seated::Lost(None)).await;
                                continue;
                            }
                        }
                        reader_stats.deliveries.fetch_add(1, Ordering::Relaxed);
                        reader_stats
                            .delta_bytes
                            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
                        if measures_full {
                            // What a full-state message would have cost every member,
                            // counted without building one.
                            let full = (snapshot_tag
                                + postcard::experimental::serialized_size(&*current).unwrap_or(0))
                                as u64;
                            reader_stats
                                .full_bytes
                                .fetch_add(full * room_size as u64, Ordering::Relaxed);
                        }
                        for op in &delta.ops {
                            if let Op::Edit { player, edit } = op
                                && let Some(n) = edit
                                    .insert
                                    .strip_prefix('#')
                                    .and_then(|t| t.split(';').next())
                                    .and_then(|t| t.parse::<u64>().ok())
                            {
                                let mut sent = lock(&reader_stats.sent);
                                let key = (delta.battle, *player, n);
                                if let Some((at, left)) = sent.get_mut(&key) {
                                    let took = now.duration_since(*at);
                                    *left -= 1;
                                    if *left == 0 {
                                        sent.remove(&key);
                                    }
                                    drop(sent);
                                    lock(&reader_stats.latencies).push((now, took));
                                }
                            }
                        }
                    }
                    // Counted by kind: the details ("try again in 2 s") vary.
                    ServerMsg::BattleRefused { refusal, .. } => {
                        let kind = format!("{refusal:?}");
                        let kind = kind.split('(').next().unwrap_or_default();
                        reader_stats.refused(format!("refused {kind}"));
                    }
                    ServerMsg::Error { code, .. } => {
                        reader_stats.refused(format!("error {code:?}"));
                    }
                    _ => {}
                }
                if let Some(s) = &state {
                    if !told_ready && s.players.len() == room_size {
                        told_ready = true;
                        let _ = to_writer.send(Seated::Full).await;
                    }
                    if !told_running
                        && matches!(s.phase, Phase::Running { .. })
                        && let Some(index) = s.player_index(&me)
                    {
                        told_running = true;
                        let _ = to_writer.send(Seated::Running(index as u8)).await;
                    }
                }
            }
        });
        let _reader = AbortOnDrop(reader.abort_handle());
        // Everyone in the room has joined: ready.
        while from_reader
            .recv()
            .await
            .is_some_and(|m| !matches!(m, Seated::Full))
        {}
        send(
            &mut sink,
            &ClientMsg::Play {
                battle,
                action: PlayerAction::Ready { ready: true },
            },
        )
        .await;
        let mut my_index = None;
        while my_index.is_none() {
            match from_reader.recv().await {
                Some(Seated::Running(index)) => my_index = Some(index),
                Some(_) => {}
                None => anyhow::bail!("the socket closed before the battle started"),
            }
        }
        let my_index = my_index.unwrap_or_default();
        // The starting document (not measured), then wait for the start signal.
        let mut my_len = STARTER.len();
        send(
            &mut sink,
            &ClientMsg::Play {
                battle,
                action: PlayerAction::Edit {
                    edits: vec![TextEdit {
                        at: 0,
                        delete: 0,
                        insert: STARTER.to_owned(),
                    }],
                },
            },
        )
        .await;
        let notified = go.notified();
        stats.seated.fetch_add(1, Ordering::Relaxed);
        if lock(&started_at).is_none() {
            notified.await;
        }
        let period = Duration::from_secs_f64(1.0 / self.rate);
        let mut n: u64 = 0;
        // Stagger the start over one period so sends do not come in waves.
        let offset = rand::thread_rng().gen_range(0.0..1.0);
        tokio::time::sleep(period.mul_f64(offset)).await;
        let mut ticker = tokio::time::interval(period);
        while !stop.load(Ordering::Relaxed) {
            tokio::select! {
                _ = ticker.tick() => {}
                // Catching up goes out at once, as the browser's does.
                lost = from_reader.recv() => {
                    match lost {
                        Some(Seated::Lost(have)) => {
                            send(&mut sink, &ClientMsg::Watch { battle, have }).await;
                        }
                        Some(_) => {}
                        // The socket closed.
                        None => break,
                    }
                    continue;
                }
            }
            let roll: f64 = rand::thread_rng().gen_range(0.0..1.0);
            let action = if roll < 0.002 {
                PlayerAction::Submit
            } else if roll < 0.007 {
                PlayerAction::Run
            } else {
                n += 1;
                let typed = format!("#{n};{}\n", "x".repeat(rand::thread_rng().gen_range(2..10)));
                let edit = TextEdit {
                    at: my_len as u32,
                    delete: 0,
                    insert: typed.clone(),
                };
                my_len += typed.len();
                lock(&stats.sent).insert((battle, my_index, n), (Instant::now(), self.room_size));
                PlayerAction::Edit { edits: vec![edit] }
            };
            if !send(&mut sink, &ClientMsg::Play { battle, action }).await {
                break;
            }
        }
        // Done sending, but the socket stays open and keeps catching up until
        // the measurement ends and aborts this task: 10,000 sockets closing at
        // once are a load of their own, and the edits still in flight were
        // measured through it (their p50 went from 1 ms to 150).
        while let Some(seated) = from_reader.recv().await {
            if let Seated::Lost(have) = seated {
                send(&mut sink, &ClientMsg::Watch { battle, have }).await;
            }
        }
        Ok(())
    }
}

/// Aborts a task when dropped: a socket's reader ends with its player, however
/// the player's task ends (aborted by the measurement, or failed).
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
