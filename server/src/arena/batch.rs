//! One task that takes work from many callers and does what is waiting in one
//! go, answering each caller on its own: the appender's and the forwarder's
//! shared shape (group commit).
//!
//! Callers wait for their own answer, so a caller never has two items in
//! flight, and items are handed to the work in the order they came.

use fred::error::{Error, ErrorKind};
use std::future::Future;
use tokio::sync::{mpsc, oneshot};

/// Hands items to the batching task. Cheap to clone.
pub(crate) struct Batcher<T, A> {
    tx: mpsc::Sender<Job<T, A>>,
}

impl<T, A> Clone for Batcher<T, A> {
    fn clone(&self) -> Self {
        Batcher {
            tx: self.tx.clone(),
        }
    }
}

struct Job<T, A> {
    item: T,
    done: oneshot::Sender<Result<A, Error>>,
}

impl<T: Send + 'static, A: Send + 'static> Batcher<T, A> {
    /// Starts the task: `work` gets up to `most` items at a time, in the order
    /// they came, and answers each, in order. The task ends when every
    /// `Batcher` is dropped.
    pub(crate) fn start<F, Fut>(most: usize, mut work: F) -> Batcher<T, A>
    where
        F: FnMut(Vec<T>) -> Fut + Send + 'static,
        Fut: Future<Output = Vec<Result<A, Error>>> + Send,
    {
        let (tx, mut rx) = mpsc::channel::<Job<T, A>>(4 * most);
        tokio::spawn(async move {
            let mut jobs = Vec::with_capacity(most);
            while rx.recv_many(&mut jobs, most).await > 0 {
                let (items, answers): (Vec<T>, Vec<_>) =
                    jobs.drain(..).map(|job| (job.item, job.done)).unzip();
                let mut results = work(items).await.into_iter();
                for done in answers {
                    // A short answer (it never is) must not leave a caller waiting.
                    let result = results
                        .next()
                        .unwrap_or_else(|| Err(Error::new(ErrorKind::Unknown, "no answer")));
                    let _ = done.send(result);
                }
            }
        });
        Batcher { tx }
    }

    /// Does `item` with whatever else is waiting; its answer.
    pub(crate) async fn submit(&self, item: T) -> Result<A, Error> {
        let (done, answer) = oneshot::channel();
        let gone = || Error::new(ErrorKind::Canceled, "the batching task stopped");
        self.tx.send(Job { item, done }).await.map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[tokio::test]
    async fn items_waiting_together_are_done_in_one_go_and_each_caller_gets_its_own_answer() {
        let batches = Arc::new(Mutex::new(Vec::new()));
        let seen = batches.clone();
        let batcher = Batcher::start(8, move |items: Vec<u32>| {
            seen.lock().unwrap().push(items.clone());
            async move { items.into_iter().map(|i| Ok(i * 10)).collect() }
        });
        // On one thread, all ten are queued before the task first runs.
        let calls: Vec<_> = (0..10)
            .map(|i| {
                let b = batcher.clone();
                tokio::spawn(async move { b.submit(i).await.expect("answer") })
            })
            .collect();
        let mut answers = Vec::new();
        for call in calls {
            answers.push(call.await.expect("task"));
        }
        assert_eq!(answers, (0..10).map(|i| i * 10).collect::<Vec<_>>());
        let batches = batches.lock().unwrap().clone();
        assert_eq!(batches.concat(), (0..10).collect::<Vec<_>>(), "in order");
        assert!(batches.len() < 10, "batched: {batches:?}");
        assert!(batches.iter().all(|b| b.len() <= 8));
    }

    #[tokio::test]
    async fn a_short_answer_fails_the_callers_left_over() {
        let batcher = Batcher::start(4, |_: Vec<u32>| async { vec![Ok(1)] });
        let (a, b) = tokio::join!(batcher.submit(1), batcher.submit(2));
        assert_eq!(a.expect("first answered"), 1);
        assert!(b.is_err());
    }
}
