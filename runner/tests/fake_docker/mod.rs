//! A fake Docker engine: the few endpoints of the Docker Engine HTTP API the
//! sandbox uses, served over a Unix socket in a temporary folder, with the
//! attach stream hijacked from the HTTP connection as the real engine does.
//!
//! It runs no container. Once a container is started, the fake reads what the
//! sandbox attached to its stdin as the real script would (a length line, the
//! source, the program's stdin) and plays the program the source names:
//!
//! | source           | what the "container" does                                   |
//! |------------------|-------------------------------------------------------------|
//! | `echo`           | starts, copies the rest of stdin (to its end) to stdout      |
//! | `hello`          | starts, prints `hello`                                       |
//! | `fail`           | starts, prints `boom` on stderr, exits 3                     |
//! | `segfault`       | starts, exits 139                                           |
//! | `exit113`        | starts, exits 113 (the program's own code)                  |
//! | `syntax`         | prints a compiler error, exits 113 (never starts)           |
//! | `sleep`          | starts, then waits to be killed                              |
//! | `silent-spin`    | starts, closes its output, then waits to be killed           |
//! | `compile-forever`| waits to be killed, never starts                             |
//! | `oom`            | starts, exits 137 with `OOMKilled`                           |
//! | `flood`          | starts, prints 32 KiB pieces until the connection goes       |
//!
//! "Starts" means writing the script's marker on stdout. Only the first word
//! of the source counts, so a test can add text to it. Every request, every
//! container created (with the JSON body received), started, updated, killed
//! and removed is recorded in a [`Log`].

use eduscale_runner::docker::PROGRAM_STARTS;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixListener;
use tokio::sync::watch;

/// The API version the fake engine speaks (older than bollard's).
pub const API_VERSION: &str = "1.47";

/// What the fake engine saw.
#[derive(Debug, Clone, Default)]
pub struct Log {
    /// Every request: method, path and query, then its body if any.
    pub requests: Vec<String>,
    /// Containers created: id and the create body.
    pub created: Vec<(String, Value)>,
    /// Containers started.
    pub started: Vec<String>,
    /// Containers updated: id and the update body.
    pub updated: Vec<(String, Value)>,
    /// Containers killed while running.
    pub killed: Vec<String>,
    /// Containers removed.
    pub removed: Vec<String>,
    /// The most containers that existed at once.
    pub max_alive: usize,
}

impl Log {
    /// Created and not removed.
    pub fn alive(&self) -> Vec<&str> {
        self.created
            .iter()
            .map(|(id, _)| id.as_str())
            .filter(|id| !self.removed.iter().any(|r| r == id))
            .collect()
    }

    /// The create bodies of one language's containers.
    pub fn created_for(&self, language: &str) -> Vec<&Value> {
        self.created
            .iter()
            .filter(|(_, body)| body["Labels"]["eduscale.sandbox"] == language)
            .map(|(_, body)| body)
            .collect()
    }
}

/// A running fake engine; stops and deletes its folder when dropped.
pub struct FakeDocker {
    /// Its socket.
    pub socket: PathBuf,
    dir: PathBuf,
    state: Arc<Mutex<State>>,
    server: tokio::task::JoinHandle<()>,
}

#[derive(Default)]
struct State {
    next_id: u64,
    containers: HashMap<String, Arc<watch::Sender<Phase>>>,
    missing_images: Vec<String>,
    log: Log,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Created,
    Running,
    Exited { code: i64, oom_killed: bool },
}

impl Phase {
    fn exited(self) -> bool {
        matches!(self, Phase::Exited { .. })
    }
}

type Shared = Arc<Mutex<State>>;

fn lock(state: &Shared) -> std::sync::MutexGuard<'_, State> {
    state.lock().expect("the fake engine's state")
}

impl FakeDocker {
    /// An engine that has every image.
    pub fn start() -> FakeDocker {
        FakeDocker::with_missing_images(&[])
    }

    /// An engine that answers "No such image" for `missing`.
    pub fn with_missing_images(missing: &[&str]) -> FakeDocker {
        let dir = temp_dir("engine");
        let socket = dir.join("docker.sock");
        let listener = UnixListener::bind(&socket).expect("bind the fake engine's socket");
        let state = Arc::new(Mutex::new(State {
            missing_images: missing.iter().map(|s| s.to_string()).collect(),
            ..State::default()
        }));
        let server = tokio::spawn(serve(listener, state.clone()));
        FakeDocker {
            socket,
            dir,
            state,
            server,
        }
    }

    /// `unix://` and the socket's path.
    pub fn host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// What it saw so far.
    pub fn log(&self) -> Log {
        lock(&self.state).log.clone()
    }

    /// Waits until `done` holds for the log (at most 10 s).
    pub async fn until(&self, what: &str, done: impl Fn(&Log) -> bool) -> Log {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let log = self.log();
            if done(&log) {
                return log;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "never happened: {what}; log: {log:#?}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for FakeDocker {
    fn drop(&mut self) {
        self.server.abort();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A fresh folder under the system's temporary folder (short, as socket paths
/// must be).
pub fn temp_dir(what: &str) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir =
        std::env::temp_dir().join(format!("eduscale-docker-{what}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temporary folder");
    dir
}

async fn serve(listener: UnixListener, state: Shared) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            return;
        };
        let state = state.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| handle(state.clone(), request));
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades()
                .await;
        });
    }
}

type Reply = Response<Full<Bytes>>;

async fn handle(state: Shared, request: Request<Incoming>) -> Result<Reply, Infallible> {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let line = format!(
        "{method} {}",
        request.uri().path_and_query().map_or("", |p| p.as_str())
    );
    // Versioned paths (`/v1.47/containers/create`) and bare ones are the same.
    let route = match path
        .strip_prefix("/v")
        .and_then(|rest| rest.split_once('/'))
    {
        Some((version, rest)) if version.contains('.') => format!("/{rest}"),
        _ => path.clone(),
    };
    let segments: Vec<String> = route
        .trim_matches('/')
        .split('/')
        .map(str::to_owned)
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();

    if let (&Method::POST, ["containers", id, "attach"]) = (&method, segments.as_slice()) {
        lock(&state).log.requests.push(line);
        return Ok(attach(&state, id, request));
    }
    let body = request
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    {
        let mut state = lock(&state);
        let logged = if body.is_empty() {
            line
        } else {
            format!("{line} {}", String::from_utf8_lossy(&body))
        };
        state.log.requests.push(logged);
    }

    Ok(match (&method, segments.as_slice()) {
        (&Method::GET | &Method::HEAD, ["_ping"]) => Response::builder()
            .header("Api-Version", API_VERSION)
            .body(Full::new(Bytes::from_static(b"OK")))
            .expect("a valid response"),
        (&Method::GET, ["version"]) => reply(
            StatusCode::OK,
            json!({"ApiVersion": API_VERSION, "MinAPIVersion": "1.24", "Version": "27.3.1", "Os": "linux", "Arch": "amd64"}),
        ),
        (&Method::POST, ["containers", "create"]) => create(&state, json),
        (&Method::POST, ["containers", id, "start"]) => start(&state, id),
        (&Method::POST, ["containers", id, "update"]) => match phase_of(&state, id) {
            Some(_) => {
                lock(&state).log.updated.push((id.to_string(), json));
                reply(StatusCode::OK, json!({"Warnings": []}))
            }
            None => no_such_container(id),
        },
        (&Method::POST, ["containers", id, "wait"]) => wait(&state, id).await,
        (&Method::GET, ["containers", id, "json"]) => inspect(&state, id),
        (&Method::POST, ["containers", id, "kill"]) => kill(&state, id),
        (&Method::DELETE, ["containers", id]) => remove(&state, id),
        _ => reply(
            StatusCode::NOT_FOUND,
            json!({"message": format!("page not found: {method} {path}")}),
        ),
    })
}

fn reply(status: StatusCode, body: Value) -> Reply {
    Response::builder()
        .status(status)
        .header("Content-Type", "application/json")
        .header("Api-Version", API_VERSION)
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("a valid response")
}

fn empty(status: StatusCode) -> Reply {
    Response::builder()
        .status(status)
        .body(Full::new(Bytes::new()))
        .expect("a valid response")
}

fn no_such_container(id: &str) -> Reply {
    reply(
        StatusCode::NOT_FOUND,
        json!({"message": format!("No such container: {id}")}),
    )
}

fn phase_of(state: &Shared, id: &str) -> Option<Arc<watch::Sender<Phase>>> {
    lock(state).containers.get(id).cloned()
}

fn create(state: &Shared, body: Value) -> Reply {
    let mut state = lock(state);
    let image = body["Image"].as_str().unwrap_or_default().to_owned();
    if state.missing_images.contains(&image) {
        return reply(
            StatusCode::NOT_FOUND,
            json!({"message": format!("No such image: {image}")}),
        );
    }
    state.next_id += 1;
    let id = format!("{:064x}", state.next_id);
    let (phase, _) = watch::channel(Phase::Created);
    state.containers.insert(id.clone(), Arc::new(phase));
    state.log.created.push((id.clone(), body));
    state.log.max_alive = state.log.max_alive.max(state.containers.len());
    reply(StatusCode::CREATED, json!({"Id": id, "Warnings": []}))
}

fn start(state: &Shared, id: &str) -> Reply {
    let Some(phase) = phase_of(state, id) else {
        return no_such_container(id);
    };
    phase.send_if_modified(|p| {
        let created = *p == Phase::Created;
        if created {
            *p = Phase::Running;
        }
        created
    });
    lock(state).log.started.push(id.to_owned());
    empty(StatusCode::NO_CONTENT)
}

async fn wait(state: &Shared, id: &str) -> Reply {
    let Some(phase) = phase_of(state, id) else {
        return no_such_container(id);
    };
    let mut phase = phase.subscribe();
    let exited = match phase.wait_for(|p| p.exited()).await {
        Ok(p) => *p,
        Err(_) => Phase::Exited {
            code: 137,
            oom_killed: false,
        },
    };
    let Phase::Exited { code, .. } = exited else {
        unreachable!()
    };
    reply(StatusCode::OK, json!({"StatusCode": code}))
}

fn inspect(state: &Shared, id: &str) -> Reply {
    let Some(phase) = phase_of(state, id) else {
        return no_such_container(id);
    };
    let current = *phase.borrow();
    let (status, code, oom_killed) = match current {
        Phase::Created => ("created", 0, false),
        Phase::Running => ("running", 0, false),
        Phase::Exited { code, oom_killed } => ("exited", code, oom_killed),
    };
    reply(
        StatusCode::OK,
        json!({"Id": id, "State": {"Status": status, "Running": current == Phase::Running, "OOMKilled": oom_killed, "ExitCode": code}}),
    )
}

/// Ends a running container as SIGKILL does; false when it was not running.
fn end_by_kill(phase: &watch::Sender<Phase>) -> bool {
    phase.send_if_modified(|p| {
        let running = *p == Phase::Running;
        if running {
            *p = Phase::Exited {
                code: 137,
                oom_killed: false,
            };
        }
        running
    })
}

fn kill(state: &Shared, id: &str) -> Reply {
    let Some(phase) = phase_of(state, id) else {
        return no_such_container(id);
    };
    if !end_by_kill(&phase) {
        return reply(
            StatusCode::CONFLICT,
            json!({"message": format!("container {id} is not running")}),
        );
    }
    lock(state).log.killed.push(id.to_owned());
    empty(StatusCode::NO_CONTENT)
}

fn remove(state: &Shared, id: &str) -> Reply {
    let mut state = lock(state);
    let Some(phase) = state.containers.remove(id) else {
        return no_such_container(id);
    };
    end_by_kill(&phase);
    // A created container never started: its program must not start later.
    phase.send_replace(Phase::Exited {
        code: 0,
        oom_killed: false,
    });
    state.log.removed.push(id.to_owned());
    empty(StatusCode::NO_CONTENT)
}

fn attach(state: &Shared, id: &str, request: Request<Incoming>) -> Reply {
    let Some(phase) = phase_of(state, id) else {
        return no_such_container(id);
    };
    tokio::spawn(async move {
        let Ok(upgraded) = hyper::upgrade::on(request).await else {
            return;
        };
        play(TokioIo::new(upgraded), phase).await;
    });
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header("Content-Type", "application/vnd.docker.raw-stream")
        .header("Connection", "Upgrade")
        .header("Upgrade", "tcp")
        .body(Full::new(Bytes::new()))
        .expect("a valid response")
}

/// Plays the program the source names, on the hijacked connection.
async fn play<S>(stream: S, phase: Arc<watch::Sender<Phase>>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let mut watching = phase.subscribe();
    let Ok(started) = watching
        .wait_for(|p| *p != Phase::Created)
        .await
        .map(|p| *p)
    else {
        return;
    };
    if started.exited() {
        return;
    }
    let (reader, mut out) = tokio::io::split(stream);
    let mut stdin = BufReader::new(reader);
    let mut header = String::new();
    if stdin.read_line(&mut header).await.is_err() {
        return;
    }
    let length: usize = header.trim().parse().unwrap_or(0);
    let mut source = vec![0; length];
    if stdin.read_exact(&mut source).await.is_err() {
        return;
    }
    let source = String::from_utf8_lossy(&source).into_owned();
    let command = source
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned();
    let until_killed = async {
        let _ = watching.wait_for(|p| p.exited()).await;
    };

    let exit = |code: i64, oom_killed: bool| {
        phase.send_if_modified(|p| {
            let running = *p == Phase::Running;
            if running {
                *p = Phase::Exited { code, oom_killed };
            }
            running
        });
    };
    match command.as_str() {
        "syntax" => {
            let _ = write_frame(
                &mut out,
                2,
                b"main.c:1:1: error: expected ';' before '}' token\n",
            )
            .await;
            exit(113, false);
        }
        "compile-forever" => until_killed.await,
        _ => {
            if write_frame(&mut out, 1, PROGRAM_STARTS).await.is_err() {
                return;
            }
            match command.as_str() {
                "echo" => {
                    let mut rest = Vec::new();
                    let _ = stdin.read_to_end(&mut rest).await;
                    let _ = write_frame(&mut out, 1, &rest).await;
                    exit(0, false);
                }
                "hello" => {
                    let _ = write_frame(&mut out, 1, b"hello\n").await;
                    exit(0, false);
                }
                "fail" => {
                    let _ = write_frame(&mut out, 2, b"boom\n").await;
                    exit(3, false);
                }
                "segfault" => exit(139, false),
                "exit113" => exit(113, false),
                "oom" => exit(137, true),
                "sleep" => until_killed.await,
                "silent-spin" => {
                    let _ = out.shutdown().await;
                    drop(out);
                    until_killed.await;
                    return;
                }
                "flood" => {
                    let piece = vec![b'x'; 32 << 10];
                    tokio::select! {
                        _ = async { while write_frame(&mut out, 1, &piece).await.is_ok() {} } => {}
                        () = until_killed => {}
                    }
                }
                other => {
                    let _ = write_frame(
                        &mut out,
                        2,
                        format!("fake engine: no program {other:?}\n").as_bytes(),
                    )
                    .await;
                    exit(127, false);
                }
            }
        }
    }
    let _ = out.shutdown().await;
}

/// One piece of the engine's multiplexed stream: stream (1 stdout, 2 stderr),
/// three zero bytes, the length (big-endian u32), the bytes.
async fn write_frame<W: tokio::io::AsyncWrite + Unpin>(
    out: &mut W,
    stream: u8,
    bytes: &[u8],
) -> std::io::Result<()> {
    let mut frame = vec![stream, 0, 0, 0];
    frame.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    frame.extend_from_slice(bytes);
    out.write_all(&frame).await?;
    out.flush().await
}

/// A socket file nobody listens on (what a stopped engine leaves behind).
pub fn stale_socket(dir: &Path) -> PathBuf {
    let path = dir.join("docker.sock");
    drop(std::os::unix::net::UnixListener::bind(&path).expect("bind"));
    path
}
