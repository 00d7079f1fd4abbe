//! One typed configuration, from defaults, an optional `eduscale.toml`, and the
//! environment (which wins), validated before anything starts.
//!
//! Names are the ones people expect: `DATABASE_URL`, `REDIS_URL`, and Leptos's
//! own `LEPTOS_SITE_ADDR` / `LEPTOS_SITE_ROOT`; everything else is `EDUSCALE_*`
//! (e.g. `EDUSCALE_REDIS_PREFIX`). The Leptos options the server renders with
//! come from the embedded `Leptos.toml`, with the address and root from here.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use leptos::config::LeptosOptions;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The runtime Leptos settings, compiled in so a release binary needs no file beside it.
pub const LEPTOS_TOML: &str = include_str!("../Leptos.toml");

/// Every setting, with its default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `DATABASE_URL`: PostgreSQL.
    pub database_url: String,
    /// `REDIS_URL`: Redis.
    pub redis_url: String,
    /// `LEPTOS_SITE_ADDR`: where to listen.
    pub site_addr: SocketAddr,
    /// `LEPTOS_SITE_ROOT`: the folder with `pkg/` (WASM, JS, CSS) and the public assets.
    pub site_root: PathBuf,
    /// `EDUSCALE_REDIS_PREFIX`: the start of every Redis key this deployment writes.
    pub redis_prefix: String,
    /// `EDUSCALE_DB_MAX_CONNECTIONS`: the PostgreSQL pool's size.
    pub db_max_connections: u32,
    /// `EDUSCALE_REDIS_POOL_SIZE`: Redis command connections.
    pub redis_pool_size: usize,
    /// `EDUSCALE_SESSION_IDLE_SECS`: a session ends after this long without a request.
    pub session_idle_secs: u64,
    /// `EDUSCALE_LOGIN_FAILURES_PER_ACCOUNT`: failed log-ins per account per window.
    pub login_failures_per_account: u32,
    /// `EDUSCALE_LOGIN_FAILURES_PER_ADDRESS`: failed log-ins per client address per window.
    pub login_failures_per_address: u32,
    /// `EDUSCALE_LOGIN_WINDOW_SECS`: the failure window.
    pub login_window_secs: u64,
    /// `EDUSCALE_INVITE_TTL_DAYS`: how long a cohort invite code works.
    pub invite_ttl_days: u64,
    /// `EDUSCALE_SECURE_COOKIES`: send the session cookie over HTTPS only.
    pub secure_cookies: bool,
    /// `EDUSCALE_BEHIND_PROXY`: trust the last `X-Forwarded-For` address (only behind a proxy that sets it).
    pub behind_proxy: bool,
    /// `EDUSCALE_BODY_LIMIT_BYTES`: the largest request body accepted.
    pub body_limit_bytes: usize,
    /// `EDUSCALE_LOG` (or `RUST_LOG`): the tracing filter.
    pub log: String,
    /// Where the runner's guest interpreters are (filled by `guests/fetch.sh`).
    pub guests_dir: PathBuf,
    /// Where compiled guests are cached (compiling CPython takes seconds; loading it, a millisecond).
    pub runner_cache_dir: PathBuf,
    /// Sandbox instances alive at once (pool slots); the queue runs at most this many.
    pub runner_slots: u32,
    /// Remote runners (`eduscale runner serve`), comma-separated `http://host:port`;
    /// empty runs the sandbox in this process.
    pub runner_remotes: String,
    /// Runs one user may start per minute (run and submit count one each).
    pub runs_per_minute: u32,
    /// The Docker engine for the compiled languages, `unix:///path`; empty for
    /// `DOCKER_HOST` or the default socket.
    pub docker_host: String,
    /// Containers created ahead, per Docker language.
    pub docker_pool_size: usize,
    /// The Redis nodes battle leases are locked on (Redlock), comma-separated
    /// `redis://` URLs: three or more independent nodes in production; empty
    /// uses `REDIS_URL` alone.
    pub lock_redis_urls: String,
    /// How long a battle's lease lasts without renewal, in milliseconds: how
    /// long a dead instance's battles wait for another to take them over.
    pub arena_lease_ms: u64,
    /// The countdown of new battles, in milliseconds.
    pub arena_countdown_ms: u64,
    /// How long new battles run, in seconds.
    pub arena_duration_secs: u64,
    /// Seconds between refreshes of the insights views (one elected instance
    /// refreshes each round); 0 leaves refreshing to other instances.
    pub insights_refresh_secs: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: "postgres://postgres@127.0.0.1:5432/eduscale".into(),
            redis_url: "redis://127.0.0.1:6379".into(),
            site_addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            site_root: "target/site".into(),
            redis_prefix: "eduscale:".into(),
            db_max_connections: 20,
            redis_pool_size: 4,
            session_idle_secs: 7 * 24 * 3600,
            login_failures_per_account: 5,
            login_failures_per_address: 30,
            login_window_secs: 15 * 60,
            invite_ttl_days: 14,
            secure_cookies: false,
            behind_proxy: false,
            body_limit_bytes: 64 * 1024,
            log: "info".into(),
            guests_dir: "guests/dist".into(),
            runner_cache_dir: ".data/guest-cache".into(),
            runner_slots: 64,
            runner_remotes: String::new(),
            lock_redis_urls: String::new(),
            arena_lease_ms: 5_000,
            arena_countdown_ms: 5_000,
            arena_duration_secs: 15 * 60,
            insights_refresh_secs: 20,
            runs_per_minute: 60,
            docker_host: String::new(),
            docker_pool_size: 2,
        }
    }
}

/// The configuration could not be read or broke a rule.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A value had the wrong type or an unknown key was given.
    #[error("configuration: {0}")]
    Read(String),
    /// Values that parsed but make no sense, one line each.
    #[error("configuration is invalid:\n  {}", .0.join("\n  "))]
    Invalid(Vec<String>),
    /// `Leptos.toml` is broken (a build problem, not the user's).
    #[error("Leptos.toml: {0}")]
    Leptos(String),
}

impl Config {
    /// Reads defaults, then `file` (or `./eduscale.toml` if present), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::from_figment(Self::figment(file))
    }

    /// The layered sources, in order of precedence (last wins).
    pub fn figment(file: Option<&Path>) -> Figment {
        let file = file.map(Path::to_path_buf).or_else(|| {
            let local = PathBuf::from("eduscale.toml");
            local.exists().then_some(local)
        });
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            figment = figment.merge(Toml::file_exact(file));
        }
        figment
            .merge(Env::raw().only(&["DATABASE_URL", "REDIS_URL"]))
            .merge(
                Env::raw()
                    .only(&["LEPTOS_SITE_ADDR", "LEPTOS_SITE_ROOT"])
                    .map(|k| k.as_str().trim_start_matches("LEPTOS_").to_owned().into()),
            )
            .merge(Env::prefixed("EDUSCALE_").ignore(&["CONFIG", "USER_PASSWORD"]))
            .merge(Env::raw().only(&["RUST_LOG"]).map(|_| "log".into()))
    }

    /// Extracts and validates.
    pub fn from_figment(figment: Figment) -> Result<Self, ConfigError> {
        let config: Config = figment
            .extract()
            .map_err(|e| ConfigError::Read(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        match url::Url::parse(&self.database_url) {
            Ok(u) if matches!(u.scheme(), "postgres" | "postgresql") => {}
            _ => problems.push(format!(
                "DATABASE_URL must look like postgres://user@host:5432/db (got {})",
                eduscale_server::db::redact(&self.database_url)
            )),
        }
        match url::Url::parse(&self.redis_url) {
            Ok(u) if matches!(u.scheme(), "redis" | "rediss") => {}
            _ => problems.push(format!(
                "REDIS_URL must look like redis://host:6379 (got {})",
                eduscale_server::db::redact(&self.redis_url)
            )),
        }
        if self.db_max_connections == 0 {
            problems.push("EDUSCALE_DB_MAX_CONNECTIONS must be at least 1".into());
        }
        if self.redis_pool_size == 0 {
            problems.push("EDUSCALE_REDIS_POOL_SIZE must be at least 1".into());
        }
        if self.session_idle_secs == 0 {
            problems.push("EDUSCALE_SESSION_IDLE_SECS must be at least 1".into());
        }
        if self.login_failures_per_account == 0 || self.login_failures_per_address == 0 {
            problems.push("log-in failure limits must be at least 1".into());
        }
        if self.body_limit_bytes < 1024 {
            problems.push("EDUSCALE_BODY_LIMIT_BYTES must be at least 1024".into());
        }
        if self.redis_prefix.contains(char::is_whitespace) {
            problems.push("EDUSCALE_REDIS_PREFIX must not contain spaces".into());
        }
        if !(1..=1000).contains(&self.runner_slots) {
            problems.push("EDUSCALE_RUNNER_SLOTS must be between 1 and 1000".into());
        }
        if !(1..=64).contains(&self.docker_pool_size) {
            problems.push("EDUSCALE_DOCKER_POOL_SIZE must be between 1 and 64".into());
        }
        if self.runs_per_minute == 0 {
            problems.push("EDUSCALE_RUNS_PER_MINUTE must be at least 1".into());
        }
        for remote in self.remote_runners() {
            if !matches!(url::Url::parse(&remote), Ok(u) if u.scheme() == "http" && u.port().is_some())
            {
                problems.push(format!(
                    "EDUSCALE_RUNNER_REMOTES entries must look like http://host:50051 (got {remote})"
                ));
            }
        }
        for node in self.lock_nodes() {
            if !matches!(url::Url::parse(&node), Ok(u) if matches!(u.scheme(), "redis" | "rediss"))
            {
                problems.push(format!(
                    "EDUSCALE_LOCK_REDIS_URLS entries must look like redis://host:6379 (got {})",
                    eduscale_server::db::redact(&node)
                ));
            }
        }
        if self.arena_lease_ms < 300 {
            problems.push("EDUSCALE_ARENA_LEASE_MS must be at least 300".into());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::Invalid(problems))
        }
    }

    /// The Redis nodes battle leases are locked on (`REDIS_URL` when none are set).
    pub fn lock_nodes(&self) -> Vec<String> {
        let nodes: Vec<String> = self
            .lock_redis_urls
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        if nodes.is_empty() {
            vec![self.redis_url.clone()]
        } else {
            nodes
        }
    }

    /// The arena's settings.
    pub fn arena_config(&self) -> eduscale_server::arena::ArenaConfig {
        eduscale_server::arena::ArenaConfig {
            lease_ttl: std::time::Duration::from_millis(self.arena_lease_ms),
            countdown: std::time::Duration::from_millis(self.arena_countdown_ms),
            duration: std::time::Duration::from_secs(self.arena_duration_secs.max(1)),
            ..Default::default()
        }
    }

    /// Insights' settings.
    pub fn insights_config(&self) -> eduscale_server::insights::InsightsConfig {
        use eduscale_server::insights::{InsightsConfig, refresher::RefreshConfig};
        InsightsConfig {
            refresh: (self.insights_refresh_secs > 0).then(|| RefreshConfig {
                every: std::time::Duration::from_secs(self.insights_refresh_secs),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    /// The remote runners configured, if any.
    pub fn remote_runners(&self) -> Vec<String> {
        self.runner_remotes
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// The account rules the server runs with.
    pub fn auth_settings(&self) -> eduscale_server::auth::AuthSettings {
        eduscale_server::auth::AuthSettings {
            session_idle: Duration::from_secs(self.session_idle_secs),
            login_failures_per_account: self.login_failures_per_account,
            login_failures_per_address: self.login_failures_per_address,
            login_window: Duration::from_secs(self.login_window_secs),
            invite_ttl: Duration::from_secs(self.invite_ttl_days * 24 * 3600),
            secure_cookies: self.secure_cookies,
            behind_proxy: self.behind_proxy,
        }
    }

    /// Leptos's options: `Leptos.toml` (and any `LEPTOS_*` that cargo-leptos sets), with our address and root.
    pub fn leptos_options(&self) -> Result<LeptosOptions, ConfigError> {
        let mut options = leptos::config::get_config_from_str(LEPTOS_TOML)
            .map_err(|e| ConfigError::Leptos(e.to_string()))?;
        options.site_addr = self.site_addr;
        options.site_root = self.site_root.to_string_lossy().into_owned().into();
        Ok(options)
    }
}

#[cfg(test)]
#[expect(
    clippy::result_large_err,
    reason = "figment::Jail's closures must return figment's own (large) error type"
)]
mod tests {
    use super::*;

    #[test]
    fn defaults_point_at_local_services() {
        let c =
            Config::from_figment(Figment::from(Serialized::defaults(Config::default()))).unwrap();
        assert_eq!(
            c.database_url,
            "postgres://postgres@127.0.0.1:5432/eduscale"
        );
        assert_eq!(c.redis_url, "redis://127.0.0.1:6379");
        assert_eq!(c.site_addr.to_string(), "127.0.0.1:3000");
    }

    #[test]
    fn environment_overrides_the_file_and_the_file_overrides_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.clear_env();
            jail.create_file(
                "eduscale.toml",
                "redis_url = \"redis://10.0.0.9:6379\"\ndb_max_connections = 7\n",
            )?;
            jail.set_env("DATABASE_URL", "postgres://app@db:5432/edu");
            jail.set_env("LEPTOS_SITE_ADDR", "0.0.0.0:8080");
            jail.set_env("EDUSCALE_REDIS_PREFIX", "staging:");
            let c = Config::load(None).expect("valid");
            assert_eq!(c.database_url, "postgres://app@db:5432/edu");
            assert_eq!(c.redis_url, "redis://10.0.0.9:6379");
            assert_eq!(c.db_max_connections, 7);
            assert_eq!(c.site_addr.to_string(), "0.0.0.0:8080");
            assert_eq!(c.redis_prefix, "staging:");
            Ok(())
        });
    }

    #[test]
    fn bad_values_are_all_reported() {
        figment::Jail::expect_with(|jail| {
            jail.clear_env();
            jail.set_env("DATABASE_URL", "mysql://x");
            jail.set_env("REDIS_URL", "nope");
            jail.set_env("EDUSCALE_DB_MAX_CONNECTIONS", "0");
            let e = Config::load(None).unwrap_err().to_string();
            assert!(
                e.contains("DATABASE_URL") && e.contains("REDIS_URL") && e.contains("DB_MAX"),
                "{e}"
            );
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_in_the_file_are_refused() {
        figment::Jail::expect_with(|jail| {
            jail.clear_env();
            jail.create_file("eduscale.toml", "databse_url = \"postgres://x@y/z\"\n")?;
            assert!(
                Config::load(None)
                    .unwrap_err()
                    .to_string()
                    .contains("databse_url")
            );
            Ok(())
        });
    }

    #[test]
    fn passwords_in_urls_are_not_echoed() {
        figment::Jail::expect_with(|jail| {
            jail.clear_env();
            jail.set_env("DATABASE_URL", "mysql://u:hunter2@h/db");
            assert!(
                !Config::load(None)
                    .unwrap_err()
                    .to_string()
                    .contains("hunter2")
            );
            Ok(())
        });
    }

    /// cargo-leptos reads `[[workspace.metadata.leptos]]` in Cargo.toml; the server alone reads
    /// `Leptos.toml`. Both must describe the same site, or a release served without cargo-leptos
    /// would look for its WASM in the wrong place.
    #[test]
    fn leptos_toml_agrees_with_cargo_metadata() {
        let cargo: toml::Value = toml::from_str(include_str!("../Cargo.toml")).unwrap();
        let cargo = &cargo["workspace"]["metadata"]["leptos"][0];
        let runtime: toml::Value = toml::from_str(LEPTOS_TOML).unwrap();
        let runtime = &runtime["package"]["metadata"]["leptos"];
        for key in [
            "output-name",
            "site-root",
            "site-pkg-dir",
            "site-addr",
            "reload-port",
        ] {
            assert_eq!(
                cargo.get(key),
                runtime.get(key),
                "{key} differs between Cargo.toml and Leptos.toml"
            );
        }
        let defaults = Config::default();
        assert_eq!(
            runtime["site-addr"].as_str(),
            Some(defaults.site_addr.to_string().as_str())
        );
        assert_eq!(runtime["site-root"].as_str(), defaults.site_root.to_str());
    }

    #[test]
    fn leptos_options_come_from_the_embedded_file() {
        let options = Config::default().leptos_options().unwrap();
        assert_eq!(&*options.output_name, "eduscale");
        assert_eq!(&*options.site_pkg_dir, "pkg");
    }
}
