//! Each path's graph, held in memory and read again only when its content
//! changes.
//!
//! An attempt runs core's rules on the learner's stored rows to know what was
//! open before it (the recursive CTE then says what is open after): that needs
//! the whole graph, and reading it (every node and edge) costs more than the
//! attempt itself. Graphs change only when content is imported.
//!
//! One cache per process, not per pool: an entry is keyed by the path's id and
//! checked against the path's content hash and import time, read by the caller
//! in its own transaction, so it never answers for a graph that has changed
//! (nor for another database's path: ids are random UUIDs).

use super::queries;
use eduscale_core::paths::PathGraph;
use sqlx::PgConnection;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use time::OffsetDateTime;
use uuid::Uuid;

/// What says a stored graph is still the path's: its content hash and when it
/// was imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    /// `paths.content_hash`.
    pub hash: Option<String>,
    /// `paths.updated_at`.
    pub updated_at: OffsetDateTime,
}

/// A path's graph with its nodes' database ids.
#[derive(Debug)]
pub struct Graph {
    /// What it was read at.
    pub stamp: Stamp,
    /// The graph, nodes by position.
    pub graph: PathGraph,
    /// Each node's id, by position.
    pub ids: Vec<i64>,
    /// Each node's position, by id.
    pub positions: HashMap<i64, usize>,
}

static GRAPHS: LazyLock<Mutex<HashMap<Uuid, Arc<Graph>>>> = LazyLock::new(Mutex::default);

/// The graph of `path` as of `stamp` (which the caller read in the transaction
/// `conn` is in): from memory when it is the same, else read on `conn` and kept.
pub async fn graph(
    conn: &mut PgConnection,
    path: Uuid,
    stamp: Stamp,
) -> Result<Arc<Graph>, sqlx::Error> {
    if let Some(held) = lock().get(&path).filter(|g| g.stamp == stamp) {
        return Ok(held.clone());
    }
    let (graph, rows) = queries::graph(conn, path).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let positions = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let read = Arc::new(Graph {
        stamp,
        graph,
        ids,
        positions,
    });
    lock().insert(path, read.clone());
    Ok(read)
}

/// A std Mutex: never held across an await.
fn lock() -> std::sync::MutexGuard<'static, HashMap<Uuid, Arc<Graph>>> {
    GRAPHS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
