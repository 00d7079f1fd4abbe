//! Compiled programs, kept so that the runs of one program compile it once.
//!
//! Judging runs the same source once per test case, and a learner runs the same
//! code again and again; for CPython, compiling the source is most of a short
//! program's run (the 20-line starter of a battle: 2.4 M of its 3.2 M fuel). So
//! the first run of a source compiles it in a run of its own, which runs
//! nothing of the program and writes the code object out (`marshal`); that run
//! and every later one of the same source load the code instead of compiling.
//!
//! What a run sees does not change: the code object is the one `compile` would
//! make in the run itself, with the same file name and lines, and a source that
//! does not compile cleanly (a syntax error, a compiler that runs out of memory,
//! code too big to keep) is remembered as such and its runs compile it
//! themselves, as before. The compiling run's limits are fixed, not the
//! request's, so whether a source is kept never depends on who ran it first, and
//! the runs of a source have the same fuel whichever came first. A run's fuel no
//! longer includes compiling, which is the same for every run of the source.
//!
//! Sources are keyed by their SHA-256; concurrent first runs of one source wait
//! for a single compilation. The cache is a least-recently-used list bounded in
//! bytes. Written here rather than taken from a caching crate: it is a map behind
//! a mutex with a byte count, and what matters (one compilation per source, a
//! failed compilation not remembered) is the few lines around it.

use hashlink::LruCache;
use sha2::{Digest, Sha256};
use std::future::Future;
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

/// What the runs of one source start from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Compiled {
    /// The compiled program.
    Code(Arc<[u8]>),
    /// The source itself: it did not compile cleanly, or its code is too big to
    /// keep.
    Source,
}

impl Compiled {
    fn bytes(&self) -> usize {
        match self {
            Compiled::Code(code) => code.len(),
            Compiled::Source => 0,
        }
    }
}

type Slot = Arc<OnceCell<Compiled>>;

/// Compiled programs by source, least recently used first out.
#[derive(Debug)]
pub struct CompiledPrograms {
    inner: Mutex<Inner>,
    budget: usize,
}

#[derive(Debug)]
struct Inner {
    slots: LruCache<[u8; 32], Slot>,
    bytes: usize,
    compilations: u64,
}

impl CompiledPrograms {
    /// A cache holding at most `budget` bytes of compiled programs.
    pub fn new(budget: usize) -> CompiledPrograms {
        CompiledPrograms {
            inner: Mutex::new(Inner {
                slots: LruCache::new_unbounded(),
                bytes: 0,
                compilations: 0,
            }),
            budget,
        }
    }

    /// What runs of `source` start from: kept, or made by `compile` (at most one
    /// at a time per source; the others wait for it). An error from `compile` is
    /// returned and not kept: the next run tries again.
    pub async fn get_or_compile<E, F>(
        &self,
        source: &str,
        compile: impl FnOnce() -> F,
    ) -> Result<Compiled, E>
    where
        F: Future<Output = Result<Compiled, E>>,
    {
        let key: [u8; 32] = Sha256::digest(source.as_bytes()).into();
        let slot = {
            let mut inner = self.lock();
            match inner.slots.get(&key) {
                Some(slot) => slot.clone(),
                None => {
                    let slot = Slot::default();
                    inner.slots.insert(key, slot.clone());
                    slot
                }
            }
        };
        let mut made = false;
        let compiled = slot
            .get_or_try_init(|| {
                made = true;
                compile()
            })
            .await?
            .clone();
        if made {
            self.account(&key, &slot, &compiled);
        }
        Ok(compiled)
    }

    /// How many sources have been compiled since the start, kept or not.
    pub fn compilations(&self) -> u64 {
        self.lock().compilations
    }

    /// Counts a new entry's bytes, then evicts the least recently used until the
    /// cache is within its budget.
    fn account(&self, key: &[u8; 32], slot: &Slot, compiled: &Compiled) {
        let mut inner = self.lock();
        inner.compilations += 1;
        // Evicted while it compiled: nothing to count.
        if !inner
            .slots
            .peek(key)
            .is_some_and(|kept| Arc::ptr_eq(kept, slot))
        {
            return;
        }
        inner.bytes += compiled.bytes();
        while inner.bytes > self.budget {
            let Some((_, evicted)) = inner.slots.remove_lru() else {
                break;
            };
            let freed = evicted.get().map_or(0, Compiled::bytes);
            inner.bytes -= freed;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // The lock guards only map operations, which do not panic midway.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::convert::Infallible;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn code(n: usize) -> Compiled {
        Compiled::Code(vec![7; n].into())
    }

    async fn get(cache: &CompiledPrograms, source: &str, made: &AtomicUsize, n: usize) -> Compiled {
        cache
            .get_or_compile(source, || async {
                made.fetch_add(1, Ordering::SeqCst);
                Ok::<_, Infallible>(code(n))
            })
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_source_is_compiled_once_however_many_ask_at_once() {
        let cache = CompiledPrograms::new(1 << 20);
        let made = AtomicUsize::new(0);
        let runs = (0..8).map(|_| async {
            cache
                .get_or_compile("print(1)", || async {
                    made.fetch_add(1, Ordering::SeqCst);
                    tokio::task::yield_now().await;
                    Ok::<_, Infallible>(code(10))
                })
                .await
                .unwrap()
        });
        let all = futures_util::future::join_all(runs).await;
        assert!(all.iter().all(|c| *c == code(10)));
        assert_eq!(made.load(Ordering::SeqCst), 1);
        assert_eq!(cache.compilations(), 1);
    }

    #[tokio::test]
    async fn a_failed_compilation_is_not_kept() {
        let cache = CompiledPrograms::new(1 << 20);
        let failed = cache
            .get_or_compile("x", || async { Err::<Compiled, _>("host down") })
            .await;
        assert_eq!(failed, Err("host down"));
        let made = AtomicUsize::new(0);
        assert_eq!(get(&cache, "x", &made, 3).await, code(3));
        assert_eq!(made.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn the_least_recently_used_go_first_when_the_budget_is_spent() {
        let cache = CompiledPrograms::new(100);
        let made = AtomicUsize::new(0);
        get(&cache, "a", &made, 40).await;
        get(&cache, "b", &made, 40).await;
        get(&cache, "a", &made, 40).await; // a is now the most recent
        get(&cache, "c", &made, 40).await; // over budget: b goes
        assert_eq!(made.load(Ordering::SeqCst), 3);
        get(&cache, "a", &made, 40).await;
        assert_eq!(made.load(Ordering::SeqCst), 3, "a was kept");
        get(&cache, "b", &made, 40).await;
        assert_eq!(made.load(Ordering::SeqCst), 4, "b was evicted");
        assert!(cache.lock().bytes <= 100);
    }
}
