//! Finding the Docker engine at start-up, and saying why when it is not there.
//!
//! Only a local engine on a Unix socket is supported: it is the engine on the
//! runner's own machine, reached without a network, and whoever can open its
//! socket is already trusted with it. A remote engine over TCP would need TLS
//! client certificates to be safe (bollard's `ssl` feature, left out to keep
//! the build small); `DOCKER_HOST=tcp://…` is reported as unsupported rather
//! than used in the clear.
//!
//! The failure reasons are shown to learners next to the language, so they say
//! what is wrong in plain words and name the socket, for the administrator.

use bollard::{API_DEFAULT_VERSION, Docker};
use std::time::Duration;

/// The engine's socket when neither the configuration nor `DOCKER_HOST` names one.
pub const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";

/// How long the start-up probe waits for each answer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long any one request to the engine may take to be answered (seconds,
/// bollard's unit). Runs themselves are timed by the sandbox, not by this.
const REQUEST_TIMEOUT_SECS: u64 = 30;

/// The engine's address: the configured one, else `DOCKER_HOST`, else the default.
pub fn resolve(configured: Option<&str>) -> String {
    configured
        .map(str::to_owned)
        .or_else(|| {
            std::env::var("DOCKER_HOST")
                .ok()
                .filter(|h| !h.trim().is_empty())
        })
        .unwrap_or_else(|| DEFAULT_HOST.to_owned())
}

/// A client for the engine at `host`, which answered a ping, speaking the
/// newest API version both sides know; otherwise why not, for learners.
pub async fn connect(host: &str) -> Result<Docker, String> {
    let path = socket_path(host)?;
    let docker = Docker::connect_with_unix(&path, REQUEST_TIMEOUT_SECS, API_DEFAULT_VERSION)
        .map_err(|error| describe(&path, &error))?;
    match tokio::time::timeout(PROBE_TIMEOUT, docker.ping()).await {
        Ok(Ok(_)) => {}
        Ok(Err(error)) => return Err(describe(&path, &error)),
        Err(_) => return Err(silent(&path)),
    }
    // The engine may be older than bollard's API version: speak its version.
    // (bollard 0.21 sends unversioned paths, which an engine serves at its own
    // version; negotiating keeps bollard's own idea of the version right.)
    match tokio::time::timeout(PROBE_TIMEOUT, docker.negotiate_version()).await {
        Ok(Ok(docker)) => Ok(docker),
        Ok(Err(error)) => Err(describe(&path, &error)),
        Err(_) => Err(silent(&path)),
    }
}

/// The socket's path in `host` (`unix:///path` or a bare absolute path).
fn socket_path(host: &str) -> Result<String, String> {
    let host = host.trim();
    match host.strip_prefix("unix://") {
        Some(path) => Ok(path.to_owned()),
        None if host.starts_with('/') => Ok(host.to_owned()),
        None => Err(format!(
            "the Docker engine is configured at {host}, but the runner only uses a local engine through its Unix socket (unix:///…)"
        )),
    }
}

fn silent(path: &str) -> String {
    format!(
        "the Docker engine on this server does not answer (no reply on {path} within {} s)",
        PROBE_TIMEOUT.as_secs()
    )
}

/// Words for a failed connection or probe.
fn describe(path: &str, error: &bollard::errors::Error) -> String {
    use std::io::ErrorKind;
    if matches!(error, bollard::errors::Error::SocketNotFoundError(_)) {
        return format!(
            "no Docker engine is running on this server (there is no socket at {path})"
        );
    }
    match io_error_kind(error) {
        Some(ErrorKind::NotFound) => {
            format!("no Docker engine is running on this server (there is no socket at {path})")
        }
        Some(ErrorKind::ConnectionRefused) => {
            format!("no Docker engine is running on this server (nothing answers on {path})")
        }
        Some(ErrorKind::PermissionDenied) => format!(
            "the runner is not allowed to use the Docker engine on this server (permission denied on {path})"
        ),
        _ => format!("the Docker engine on this server cannot be used ({path}: {error})"),
    }
}

/// The kind of the first I/O error among `error`'s causes.
fn io_error_kind(error: &(dyn std::error::Error + 'static)) -> Option<std::io::ErrorKind> {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if let Some(io) = error.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        cause = error.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unix_sockets_are_used() {
        assert_eq!(
            socket_path("unix:///run/docker.sock").as_deref(),
            Ok("/run/docker.sock")
        );
        assert_eq!(
            socket_path("/run/docker.sock").as_deref(),
            Ok("/run/docker.sock")
        );
        let tcp = socket_path("tcp://10.0.0.1:2375").expect_err("refused");
        assert!(tcp.contains("tcp://10.0.0.1:2375"), "{tcp}");
    }

    #[test]
    fn the_configured_host_wins() {
        assert_eq!(resolve(Some("unix:///x.sock")), "unix:///x.sock");
    }
}
