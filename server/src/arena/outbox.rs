//! Where one socket's messages wait (battle deltas, and the learner's own
//! messages): a bounded queue that the relays offer to and never wait on, and
//! that the socket's loop drains.
//!
//! Written here rather than taken from tokio: a bounded `mpsc` channel costs
//! each socket about 800 bytes before its first message (cache-padded state and
//! a first block of 32 slots), a tenth of what a socket may cost at 10,000
//! sockets. This is a mutex over a deque that only grows while messages wait,
//! and a `Notify`.

use super::Outgoing;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;
use uuid::Uuid;

/// Where one socket's battle messages go. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Outbox {
    /// The connection's id on this instance.
    pub conn: u64,
    /// Who is connected.
    pub user: Uuid,
    queue: Arc<Queue>,
}

#[derive(Debug)]
struct Queue {
    /// std Mutex: held only to push or pop.
    waiting: Mutex<VecDeque<Arc<Outgoing>>>,
    capacity: usize,
    /// Set when a message did not fit: the socket must resync.
    lagged: AtomicBool,
    ready: Notify,
}

impl Outbox {
    /// An empty outbox for connection `conn` of `user`, holding at most
    /// `capacity` messages.
    pub fn new(conn: u64, user: Uuid, capacity: usize) -> Outbox {
        Outbox {
            conn,
            user,
            queue: Arc::new(Queue {
                waiting: Mutex::new(VecDeque::new()),
                capacity: capacity.max(1),
                lagged: AtomicBool::new(false),
                ready: Notify::new(),
            }),
        }
    }

    fn waiting(&self) -> std::sync::MutexGuard<'_, VecDeque<Arc<Outgoing>>> {
        self.queue
            .waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Queues `msg`, or drops it and marks the socket lagged when the queue is
    /// full. Never waits.
    pub fn offer(&self, msg: &Arc<Outgoing>) {
        {
            let mut waiting = self.waiting();
            if waiting.len() >= self.queue.capacity {
                drop(waiting);
                self.queue.lagged.store(true, Ordering::Relaxed);
                return;
            }
            waiting.push_back(msg.clone());
        }
        self.queue.ready.notify_one();
    }

    /// The oldest waiting message, if any.
    pub fn pop(&self) -> Option<Arc<Outgoing>> {
        self.waiting().pop_front()
    }

    /// The oldest waiting message, once there is one. Cancel-safe: a message is
    /// taken only when this returns it.
    pub async fn next(&self) -> Arc<Outgoing> {
        loop {
            if let Some(msg) = self.pop() {
                return msg;
            }
            // A message offered between the pop and here leaves a permit, so
            // this returns at once rather than missing it.
            self.queue.ready.notified().await;
        }
    }

    /// Whether a message was dropped since the last call (and clears it).
    pub fn take_lagged(&self) -> bool {
        self.queue.lagged.swap(false, Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use eduscale_core::battle::Delta;
    use std::time::Duration;

    fn msg(seq: u64) -> Arc<Outgoing> {
        Outgoing::new(Arc::new(Delta {
            battle: 1,
            seq,
            ops: Vec::new(),
            state_hash: eduscale_core::battle::StateHash(0),
        }))
    }

    #[tokio::test]
    async fn messages_come_out_in_order_and_a_full_outbox_marks_the_socket_lagged() {
        let outbox = Outbox::new(1, Uuid::nil(), 3);
        for seq in 1..=5 {
            outbox.offer(&msg(seq));
        }
        assert!(outbox.take_lagged());
        assert!(!outbox.take_lagged(), "taking the mark clears it");
        let seqs: Vec<u64> = std::iter::from_fn(|| outbox.pop())
            .filter_map(|m| m.delta().map(|d| d.seq))
            .collect();
        assert_eq!(seqs, [1, 2, 3]);
        outbox.offer(&msg(6));
        assert_eq!(outbox.next().await.delta().map(|d| d.seq), Some(6));
    }

    #[tokio::test]
    async fn a_waiting_socket_wakes_for_a_message_offered_later() {
        let outbox = Outbox::new(1, Uuid::nil(), 8);
        let waiting = tokio::spawn({
            let outbox = outbox.clone();
            async move { outbox.next().await.delta().map(|d| d.seq) }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        outbox.offer(&msg(7));
        let seq = tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("woken")
            .unwrap();
        assert_eq!(seq, Some(7));
    }

    #[tokio::test]
    async fn a_wait_given_up_loses_no_message() {
        let outbox = Outbox::new(1, Uuid::nil(), 8);
        // Given up before anything came, as a socket's select! gives up the
        // outbox when a frame arrives first.
        let gave_up = tokio::time::timeout(Duration::from_millis(10), outbox.next()).await;
        assert!(gave_up.is_err());
        outbox.offer(&msg(1));
        outbox.offer(&msg(2));
        assert_eq!(outbox.next().await.delta().map(|d| d.seq), Some(1));
        assert_eq!(outbox.next().await.delta().map(|d| d.seq), Some(2));
    }
}
