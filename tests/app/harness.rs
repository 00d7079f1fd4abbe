//! A test client for the real router: one cookie jar, form-encoded server-function calls.

use axum::Router;
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use eduscale::web::{WebState, router};
use eduscale_runner::queue::{Executor, Runner};
use eduscale_runner::rate::RunRateLimit;
use eduscale_server::AppState;
use eduscale_server::auth::AuthSettings;
use eduscale_server::redis::{KeyPrefix, Redis};
use fred::prelude::*;
use http_body_util::BodyExt;
use sqlx::PgPool;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tower::ServiceExt;

/// The body limit the tests run with (the production default).
pub const BODY_LIMIT: usize = 64 * 1024;

/// One running app over a fresh database and a fresh Redis prefix.
pub struct TestApp {
    pub router: Router,
    pub state: AppState,
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    /// The body as JSON (panics with the body when it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// Runs per user per minute in tests: enough for every test but the one on the limit.
pub const RUNS_PER_MINUTE: std::num::NonZeroU32 = std::num::NonZeroU32::new(30).expect("non-zero");

/// One in-process runner for the whole test binary, over the real guests (its
/// compiled guests cached under the target directory).
pub async fn shared_runner() -> Arc<dyn Executor> {
    static RUNNER: tokio::sync::OnceCell<Arc<Runner>> = tokio::sync::OnceCell::const_new();
    let runner = RUNNER
        .get_or_init(|| async {
            let mut config = eduscale::config::Config::default();
            let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
            config.guests_dir = root.join("guests/dist");
            config.runner_cache_dir =
                std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("guest-cache");
            Arc::new(eduscale::runner::local(&config).await.expect("runner"))
        })
        .await;
    runner.clone()
}

impl TestApp {
    /// An app with the production account rules.
    pub async fn new(db: PgPool) -> Self {
        Self::with_settings(db, AuthSettings::default()).await
    }

    /// An app with `settings`.
    pub async fn with_settings(db: PgPool, settings: AuthSettings) -> Self {
        let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
        let prefix = KeyPrefix::new(&format!("test:{}:", uuid::Uuid::new_v4()));
        let redis = Redis::connect(&url, 2, prefix)
            .await
            .expect("Redis for tests");
        let realtime = eduscale_server::realtime::Hub::start(&redis)
            .await
            .expect("realtime relay");
        let runner = shared_runner().await;
        let locks = eduscale_server::redis::redlock::Redlock::connect(std::slice::from_ref(&url))
            .await
            .expect("lock node");
        let arena = eduscale_server::arena::Arena::start(
            db.clone(),
            redis.clone(),
            locks,
            realtime.clone(),
            runner.clone(),
            eduscale_server::arena::ArenaConfig::default(),
        )
        .await
        .expect("arena");
        let insights = eduscale_server::insights::Insights::start(
            db.clone(),
            redis.clone(),
            eduscale_server::insights::InsightsConfig::default(),
        );
        arena.record_events(insights.events.clone());
        let state = AppState {
            insights: Arc::new(insights),
            db,
            redis,
            realtime,
            arena,
            auth: Arc::new(settings),
            runner,
            run_limit: Arc::new(RunRateLimit::per_minute(RUNS_PER_MINUTE)),
        };
        let leptos = eduscale::config::Config::default()
            .leptos_options()
            .expect("Leptos.toml");
        let router = router(
            WebState {
                app: state.clone(),
                leptos,
            },
            BODY_LIMIT,
        );
        Self { router, state }
    }

    /// A browser-like client with its own cookie jar, from `address`.
    pub fn client(&self) -> Client {
        self.client_from([127, 0, 0, 1])
    }

    /// A client whose requests come from `ip`.
    pub fn client_from(&self, ip: [u8; 4]) -> Client {
        let router = self
            .router
            .clone()
            .layer(MockConnectInfo(SocketAddr::from((ip, 40000))));
        Client {
            router,
            cookie: Arc::new(Mutex::new(None)),
            forwarded_for: None,
        }
    }

    /// A client reaching the app through a reverse proxy at 10.9.9.9 that appends
    /// `client_ip`; `forged` is what the client itself claims in `X-Forwarded-For`.
    pub fn client_via_proxy(&self, client_ip: &str, forged: Option<&str>) -> Client {
        let mut client = self.client_from([10, 9, 9, 9]);
        client.forwarded_for = Some(match forged {
            Some(claim) => format!("{claim}, {client_ip}"),
            None => client_ip.to_owned(),
        });
        client
    }

    /// Serves the app on a free local port (for WebSockets); returns the address.
    pub async fn serve(&self) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("port");
        let addr = listener.local_addr().expect("address");
        let service = self
            .router
            .clone()
            .into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, service).await });
        addr
    }

    /// Deletes every Redis key this test wrote.
    pub async fn cleanup(self) {
        let pool = &self.state.redis.pool;
        let pattern = format!("{}*", self.state.redis.prefix.as_str());
        let keys: Vec<String> = pool
            .custom(fred::cmd!("KEYS"), vec![pattern])
            .await
            .unwrap_or_default();
        if !keys.is_empty() {
            let _: () = pool.del(keys).await.expect("delete test keys");
        }
        self.state.redis.quit().await;
    }
}

/// Sends requests through the router, keeping the session cookie like a browser.
#[derive(Clone)]
pub struct Client {
    router: Router,
    cookie: Arc<Mutex<Option<String>>>,
    forwarded_for: Option<String>,
}

impl Client {
    /// Calls the server function at `/api/{name}` with form fields.
    pub async fn call(&self, name: &str, fields: &[(&str, &str)]) -> Reply {
        let body = serde_urlencoded(fields);
        self.send_raw(
            Method::POST,
            &format!("/api/{name}"),
            "application/x-www-form-urlencoded",
            body.into_bytes(),
        )
        .await
    }

    /// A GET of `path`.
    pub async fn get(&self, path: &str) -> Reply {
        self.send(
            Request::builder()
                .method(Method::GET)
                .uri(path)
                .body(Body::empty())
                .expect("request"),
        )
        .await
    }

    /// A request with any method, content type and bytes.
    pub async fn send_raw(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Reply {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::CONTENT_TYPE, content_type)
            .header(header::CONTENT_LENGTH, body.len())
            .body(Body::from(body))
            .expect("request");
        self.send(request).await
    }

    async fn send(&self, mut request: Request<Body>) -> Reply {
        if let Some(chain) = &self.forwarded_for {
            request
                .headers_mut()
                .insert("x-forwarded-for", chain.parse().expect("header"));
        }
        if let Some(cookie) = self.cookie.lock().expect("jar").clone() {
            request
                .headers_mut()
                .insert(header::COOKIE, cookie.parse().expect("cookie header"));
        }
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("router never fails");
        let (parts, body) = response.into_parts();
        if let Some(set) = parts
            .headers
            .get(header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
        {
            let pair = set.split(';').next().unwrap_or_default().to_owned();
            let cleared = set.contains("Max-Age=0") || pair.ends_with('=');
            *self.cookie.lock().expect("jar") = (!cleared).then_some(pair);
        }
        let bytes = body.collect().await.expect("body").to_bytes();
        Reply {
            status: parts.status,
            headers: parts.headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// The session cookie (`name=value`), once signed in.
    pub fn cookie(&self) -> Option<String> {
        self.cookie.lock().expect("jar").clone()
    }

    /// Signs a learner up; panics unless it worked.
    pub async fn sign_up(&self, email: &str, password: &str) -> Reply {
        let reply = self
            .call(
                "sign_up",
                &[
                    ("email", email),
                    ("display_name", "Test Learner"),
                    ("password", password),
                ],
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "sign-up failed: {}",
            reply.body
        );
        reply
    }

    /// Who the server thinks this client is (`null` when nobody).
    pub async fn who(&self) -> serde_json::Value {
        let reply = self.call("who_am_i", &[]).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.json()
    }
}

fn serde_urlencoded(fields: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}

/// A strong password for tests.
pub const PASSWORD: &str = "correct horse 42";

/// An account with `role` created directly, then logged in through the app.
pub async fn signed_in(app: &TestApp, email: &str, role: eduscale_core::account::Role) -> Client {
    use eduscale_core::account::{DisplayName, Email, NewPassword};
    let email = Email::parse(email).unwrap();
    let name = DisplayName::parse("Someone").unwrap();
    let password = NewPassword::parse(PASSWORD, None).unwrap();
    eduscale_server::auth::accounts::create(&app.state.db, &email, &name, &password, role)
        .await
        .unwrap();
    let client = app.client();
    let r = client
        .call(
            "log_in",
            &[("email", email.as_str()), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    client
}
