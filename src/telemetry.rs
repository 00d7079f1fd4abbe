//! Logs through `tracing`: human-readable on a terminal, JSON lines otherwise
//! (so a log collector can parse them without guessing).

use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber with `filter` (e.g. `info,eduscale=debug`).
pub fn init(filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second init (tests) fails harmlessly: the first subscriber stays.
    let _ = if std::io::stderr().is_terminal() {
        builder.try_init()
    } else {
        builder.json().flatten_event(true).try_init()
    };
}
