//! A real deployment on one machine: three lock nodes (their own
//! `redis-server`s on spare ports), the machine's Redis under a fresh prefix,
//! a fresh database with the shipped content, and `eduscale serve` processes
//! that can be killed, paused and resumed like any process.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A port nobody listens on now.
pub fn spare_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a spare port")
}

/// Redis servers of our own, killed on drop.
pub struct RedisNodes {
    children: Vec<Child>,
    /// Their URLs.
    pub urls: Vec<String>,
}

impl RedisNodes {
    /// Starts `n` nodes and waits until each answers.
    pub fn start(n: usize) -> RedisNodes {
        let mut children = Vec::new();
        let mut urls = Vec::new();
        for _ in 0..n {
            let port = spare_port();
            let child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server on PATH");
            children.push(child);
            wait_for_port(port, Duration::from_secs(10));
            urls.push(format!("redis://127.0.0.1:{port}"));
        }
        RedisNodes { children, urls }
    }
}

impl RedisNodes {
    /// Freezes node `i` (SIGSTOP): it keeps its connections and answers nothing.
    pub fn pause(&self, i: usize) {
        signal(&self.children[i], "-STOP");
    }

    /// Thaws node `i` (SIGCONT).
    pub fn resume(&self, i: usize) {
        signal(&self.children[i], "-CONT");
    }
}

fn signal(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

impl Drop for RedisNodes {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn wait_for_port(port: u16, within: Duration) {
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < within, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The settings every instance of one deployment shares.
#[derive(Clone, Debug)]
pub struct Deployment {
    /// PostgreSQL.
    pub database_url: String,
    /// The shared Redis.
    pub redis_url: String,
    /// This deployment's key prefix.
    pub prefix: String,
    /// The lock nodes.
    pub lock_urls: Vec<String>,
    /// Lease TTL, ms.
    pub lease_ms: u64,
    /// Countdown of new battles, ms.
    pub countdown_ms: u64,
}

fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_eduscale")
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("guest-cache")
}

impl Deployment {
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(binary());
        command
            .args(args)
            .current_dir(root())
            .env("DATABASE_URL", &self.database_url)
            .env("REDIS_URL", &self.redis_url)
            .env("EDUSCALE_REDIS_PREFIX", &self.prefix)
            .env("EDUSCALE_LOCK_REDIS_URLS", self.lock_urls.join(","))
            .env("EDUSCALE_ARENA_LEASE_MS", self.lease_ms.to_string())
            .env("EDUSCALE_ARENA_COUNTDOWN_MS", self.countdown_ms.to_string())
            .env("EDUSCALE_GUESTS_DIR", root().join("guests/dist"))
            .env("EDUSCALE_RUNNER_CACHE_DIR", cache_dir())
            .env("RUST_LOG", "warn,eduscale_server::arena=info");
        command
    }

    /// Imports the shipped content (the battles' problems).
    pub fn import_content(&self) {
        let out = self
            .command(&["import", "content"])
            .output()
            .expect("eduscale import");
        assert!(
            out.status.success(),
            "import failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Starts an instance and waits until it is ready.
    pub async fn instance(&self) -> Instance {
        let port = spare_port();
        let log = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("arena-{port}.log"));
        let file = std::fs::File::create(&log).expect("log file");
        let child = self
            .command(&["serve"])
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("eduscale serve");
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("address");
        let mut instance = Instance {
            child,
            addr,
            id: String::new(),
            log,
        };
        instance.id = instance.wait_ready().await;
        instance
    }
}

/// One `eduscale serve` process.
pub struct Instance {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its arena instance id.
    pub id: String,
    /// Its stderr.
    pub log: PathBuf,
}

impl Instance {
    async fn wait_ready(&mut self) -> String {
        let started = Instant::now();
        let url = format!("http://{}/readyz", self.addr);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "the instance exited ({status}): {}",
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
            if let Ok(r) = reqwest::get(&url).await
                && r.status().is_success()
                && let Ok(body) = r.json::<serde_json::Value>().await
            {
                return body["instance"].as_str().unwrap_or_default().to_owned();
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the instance never got ready: {}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn signal(&self, signal: &str) {
        self::signal(&self.child, signal);
    }

    /// Kills it at once (no shutdown, no lease release).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Freezes it (SIGSTOP).
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Thaws it (SIGCONT).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    /// Its `/metrics` text.
    pub async fn metrics(&self) -> String {
        reqwest::get(format!("http://{}/metrics", self.addr))
            .await
            .expect("metrics")
            .text()
            .await
            .expect("metrics text")
    }

    /// A counter from its `/metrics`, 0 when absent.
    pub async fn counter(&self, name: &str) -> f64 {
        let text = self.metrics().await;
        text.lines()
            .filter(|l| l.starts_with(name))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        // A paused process must be thawed to die cleanly.
        let _ = Command::new("kill")
            .args(["-CONT", &self.child.id().to_string()])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
