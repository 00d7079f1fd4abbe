//! A battle actor's mailbox: bounded, many senders, one reader.
//!
//! When the actor stops, the mail still waiting is taken out with
//! [`Inbox::close`] (a fenced-out actor hands it on to the battle's new
//! owner); senders the closed mailbox refuses wait until that is done, so that
//! a player's later move never overtakes an earlier one.
//!
//! Written here rather than taken from tokio, like the sockets' outboxes: a
//! bounded `mpsc` channel of mails sets aside a block of 32 of them (1.5 KB)
//! and cache-padded state as soon as it carries one, about 2 KB per battle,
//! a KB per socket at 10,000 sockets in duels. This is a mutex over a deque
//! that only grows while mails wait, and two `Notify`s: one for the reader,
//! one for senders waiting for room.

use super::Mail;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// Where a battle's mail goes. Cheap to clone.
#[derive(Clone)]
pub struct Mailbox(Arc<Inner>);

/// The actor's end: reads the mail. Dropping it closes the mailbox and drops
/// what waits in it; [`Inbox::close`] hands that back instead.
pub struct Inbox(Arc<Inner>);

/// The mail left in a closed mailbox, in the order it came. Senders the
/// mailbox refused are told so when this is dropped: hand the mail on first.
pub struct Leftovers {
    /// The mail, oldest first.
    pub mail: VecDeque<Mail>,
    inner: Arc<Inner>,
}

struct Inner {
    /// std Mutex: held only to push or pop.
    waiting: Mutex<VecDeque<Mail>>,
    capacity: usize,
    /// The actor stopped: nothing is delivered any more.
    closed: AtomicBool,
    /// A mail came.
    mail: Notify,
    /// A mail was taken, or the mailbox closed.
    room: Notify,
    /// What was left when the mailbox closed has been handed on (or dropped):
    /// until then a refused sender waits, so as not to overtake it.
    handed_on: AtomicBool,
    /// `handed_on` became true.
    handed: Notify,
}

/// The mail was not delivered: the actor stopped (or, to `try_send`, the
/// mailbox was full).
#[derive(Debug)]
pub struct Undelivered;

/// A mailbox holding at most `capacity` mails, and its reading end.
pub fn mailbox(capacity: usize) -> (Mailbox, Inbox) {
    let inner = Arc::new(Inner {
        waiting: Mutex::new(VecDeque::new()),
        capacity: capacity.max(1),
        closed: AtomicBool::new(false),
        mail: Notify::new(),
        room: Notify::new(),
        handed_on: AtomicBool::new(false),
        handed: Notify::new(),
    });
    (Mailbox(inner.clone()), Inbox(inner))
}

impl Inner {
    fn waiting(&self) -> std::sync::MutexGuard<'_, VecDeque<Mail>> {
        self.waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Queues `mail` if there is room: `Ok(None)` when queued, `Ok(Some(mail))`
    /// when full.
    fn offer(&self, mail: Mail) -> Result<Option<Mail>, Undelivered> {
        let mut waiting = self.waiting();
        if self.closed.load(Ordering::Acquire) {
            return Err(Undelivered);
        }
        if waiting.len() >= self.capacity {
            return Ok(Some(mail));
        }
        waiting.push_back(mail);
        drop(waiting);
        self.mail.notify_one();
        Ok(None)
    }

    /// Closes the mailbox; what was waiting in it.
    fn close(&self) -> VecDeque<Mail> {
        let mut waiting = self.waiting();
        self.closed.store(true, Ordering::Release);
        let left = std::mem::take(&mut *waiting);
        drop(waiting);
        self.room.notify_waiters();
        left
    }

    /// Lets the refused senders go.
    fn hand_on_done(&self) {
        self.handed_on.store(true, Ordering::Release);
        self.handed.notify_waiters();
    }

    /// Returns once what the mailbox held when it closed has been handed on.
    async fn wait_handed_on(&self) {
        loop {
            // Registered before looking, as in `send`.
            let handed = self.handed.notified();
            tokio::pin!(handed);
            handed.as_mut().enable();
            if self.handed_on.load(Ordering::Acquire) {
                return;
            }
            handed.await;
        }
    }
}

impl Mailbox {
    /// Delivers `mail`, waiting while the mailbox is full. Refused once the
    /// actor stopped, after what it left has been handed on.
    pub async fn send(&self, mail: Mail) -> Result<(), Undelivered> {
        let mut mail = mail;
        loop {
            // Registered before looking, so that room made (or the mailbox
            // closed) between the look and the wait still wakes this send.
            let room = self.0.room.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            match self.0.offer(mail) {
                Ok(None) => return Ok(()),
                Ok(Some(back)) => mail = back,
                Err(Undelivered) => {
                    self.0.wait_handed_on().await;
                    return Err(Undelivered);
                }
            }
            room.await;
        }
    }

    /// Delivers `mail` unless the mailbox is full or closed.
    pub fn try_send(&self, mail: Mail) -> Result<(), Undelivered> {
        match self.0.offer(mail)? {
            None => Ok(()),
            Some(_) => Err(Undelivered),
        }
    }

    /// Whether the actor stopped.
    pub fn is_closed(&self) -> bool {
        self.0.closed.load(Ordering::Acquire)
    }

    /// Whether both are the same battle's mailbox (not one a later owner made).
    pub fn same(&self, other: &Mailbox) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Inbox {
    /// The oldest mail, once there is one.
    pub async fn recv(&mut self) -> Mail {
        loop {
            // A mail queued between the pop and the wait leaves a permit, so
            // the wait returns at once rather than missing it.
            if let Some(mail) = self.0.waiting().pop_front() {
                self.0.room.notify_one();
                return mail;
            }
            self.0.mail.notified().await;
        }
    }
}

impl Inbox {
    /// Closes the mailbox and takes out what still waits in it.
    pub fn close(self) -> Leftovers {
        let mail = self.0.close();
        Leftovers {
            mail,
            inner: self.0.clone(),
        }
        // `self` drops here: the mailbox is already closed and empty, and the
        // refused senders wait for the leftovers to be dropped.
    }
}

impl Drop for Inbox {
    fn drop(&mut self) {
        if !self.0.closed.load(Ordering::Acquire) {
            drop(self.0.close());
            self.0.hand_on_done();
        }
    }
}

impl Drop for Leftovers {
    fn drop(&mut self) {
        self.inner.hand_on_done();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use uuid::Uuid;

    fn ran(passed: u16) -> Mail {
        Mail::Ran {
            user: Uuid::nil(),
            passed: Some(passed),
        }
    }

    fn passed(mail: Mail) -> Option<u16> {
        match mail {
            Mail::Ran { passed, .. } => passed,
            _ => None,
        }
    }

    #[tokio::test]
    async fn mail_comes_out_in_order_and_a_full_mailbox_holds_senders_back() {
        let (tx, mut rx) = mailbox(2);
        tx.send(ran(1)).await.expect("room");
        tx.send(ran(2)).await.expect("room");
        assert!(tx.try_send(ran(9)).is_err(), "full");
        let third = tokio::spawn({
            let tx = tx.clone();
            async move { tx.send(ran(3)).await.is_ok() }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!third.is_finished(), "waits while the mailbox is full");
        assert_eq!(passed(rx.recv().await), Some(1));
        assert!(
            tokio::time::timeout(Duration::from_secs(5), third)
                .await
                .expect("sent once there was room")
                .expect("task")
        );
        assert_eq!(passed(rx.recv().await), Some(2));
        assert_eq!(passed(rx.recv().await), Some(3));
    }

    #[tokio::test]
    async fn the_reader_wakes_for_mail_sent_later() {
        let (tx, mut rx) = mailbox(4);
        let reader = tokio::spawn(async move { passed(rx.recv().await) });
        tokio::time::sleep(Duration::from_millis(20)).await;
        tx.send(ran(7)).await.expect("room");
        let got = tokio::time::timeout(Duration::from_secs(5), reader)
            .await
            .expect("woken")
            .expect("task");
        assert_eq!(got, Some(7));
    }

    #[tokio::test]
    async fn a_closed_mailbox_hands_back_its_mail_and_holds_refused_senders_until_handed_on() {
        let (tx, rx) = mailbox(4);
        tx.send(ran(1)).await.expect("room");
        tx.send(ran(2)).await.expect("room");
        let mut leftovers = rx.close();
        let left: Vec<_> = std::mem::take(&mut leftovers.mail)
            .into_iter()
            .map(passed)
            .collect();
        assert_eq!(left, vec![Some(1), Some(2)], "in the order sent");
        let refused = tokio::spawn({
            let tx = tx.clone();
            async move { tx.send(ran(3)).await.is_err() }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(
            !refused.is_finished(),
            "a later sender waits while the leftovers are handed on"
        );
        drop(leftovers);
        assert!(
            tokio::time::timeout(Duration::from_secs(5), refused)
                .await
                .expect("let go once they were")
                .expect("task"),
            "refused"
        );
        assert!(tx.try_send(ran(4)).is_err());
    }

    #[tokio::test]
    async fn a_stopped_actor_refuses_mail_even_to_a_waiting_sender() {
        let (tx, rx) = mailbox(1);
        tx.send(ran(1)).await.expect("room");
        let waiting = tokio::spawn({
            let tx = tx.clone();
            async move { tx.send(ran(2)).await.is_err() }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(rx);
        assert!(
            tokio::time::timeout(Duration::from_secs(5), waiting)
                .await
                .expect("woken by the close")
                .expect("task"),
            "refused"
        );
        assert!(tx.is_closed());
        assert!(tx.send(ran(3)).await.is_err());
        assert!(tx.try_send(Mail::Fenced).is_err());
        let (other, _rx) = mailbox(1);
        assert!(tx.same(&tx.clone()));
        assert!(!tx.same(&other));
    }
}
