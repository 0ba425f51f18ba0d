//! Parallel maps over points with `std::thread::scope`, whose results do not depend on the number
//! of threads: point i is always computed by the same sequential code on its own inputs, and the
//! results are stored by index. Each worker thread builds its own scratch state once.

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};

/// The number of threads to use: `requested`, or the machine's available parallelism when `None`.
pub fn thread_count(requested: Option<usize>) -> usize {
    requested
        .filter(|&t| t > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, NonZeroUsize::get))
}

/// [f(0, s), f(1, s), …, f(n − 1, s)] computed on `threads` threads, each with its own scratch
/// `s = init()`. Work is handed out one index at a time from a shared counter (so uneven costs
/// balance), and each result is stored at its index: the output is bitwise identical for every
/// thread count, because f(i, ·) never depends on which thread runs it or on its scratch's history.
pub fn par_map<T, S, I, F>(n: usize, threads: usize, init: I, f: F) -> Vec<T>
where
    T: Send,
    I: Fn() -> S + Sync,
    F: Fn(usize, &mut S) -> T + Sync,
{
    let threads = threads.clamp(1, n.max(1));
    if threads == 1 {
        let mut s = init();
        return (0..n).map(|i| f(i, &mut s)).collect();
    }
    let next = AtomicUsize::new(0);
    let mut parts: Vec<Vec<(usize, T)>> = Vec::with_capacity(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let (init, f, next) = (&init, &f, &next);
                scope.spawn(move || {
                    let mut s = init();
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= n {
                            break out;
                        }
                        out.push((i, f(i, &mut s)));
                    }
                })
            })
            .collect();
        for h in handles {
            parts.push(h.join().expect("a worker thread panicked"));
        }
    });
    let mut out: Vec<Option<T>> = (0..n).map(|_| None).collect();
    for (i, v) in parts.into_iter().flatten() {
        out[i] = Some(v);
    }
    out.into_iter()
        .map(|o| o.expect("every index is computed exactly once"))
        .collect()
}

/// A crew of worker threads kept for many rounds of the same work (see [`with_crew`]): spawning
/// threads for every round of a short loop — a training step is ~0.1 ms — would cost as much as
/// the round itself.
pub struct Crew<'w, S> {
    shared: &'w CrewShared,
    work: &'w (dyn Fn(usize, &mut S) + Sync),
    own: Mutex<S>,
    workers: usize,
}

/// What the caller and the workers share: the round's state under one lock, and the index counter.
struct CrewShared {
    state: Mutex<CrewState>,
    start: Condvar,
    finished: Condvar,
    next: AtomicUsize,
    panicked: AtomicBool,
    /// Mirrors of `state.round` and `state.done`, read without the lock while spinning.
    round: AtomicU64,
    done: AtomicUsize,
}

/// Polls of a mirror before a thread blocks on the condition variable: a round of a training step
/// lasts ~0.1 ms, and waking a blocked thread costs tens of µs, a large share of that; ~2000
/// `spin_loop` hints are a few µs to tens of µs. (Blocking then takes over, so a descheduled
/// partner costs only this much spinning.)
const SPINS: usize = 2000;

/// Polls `ready` up to [`SPINS`] times; whether it became true.
fn spin_until(ready: impl Fn() -> bool) -> bool {
    for _ in 0..SPINS {
        if ready() {
            return true;
        }
        std::hint::spin_loop();
    }
    ready()
}

/// The round being run.
struct CrewState {
    /// Rounds started (a worker runs each round once).
    round: u64,
    /// Indices of the current round.
    n: usize,
    /// Workers done with the current round.
    done: usize,
    /// Set when the crew is dismissed.
    quit: bool,
}

impl CrewShared {
    fn lock(&self) -> MutexGuard<'_, CrewState> {
        // The lock is never held while work runs, so a poisoned lock means a bug in this module;
        // its state is still consistent (every update is a single assignment).
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `work(i, s)` for indices taken from the shared counter until it passes `n`.
    fn drain<S>(&self, n: usize, work: &(dyn Fn(usize, &mut S) + Sync), s: &mut S) {
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            if i >= n {
                break;
            }
            work(i, s);
        }
    }
}

/// Dismisses a crew's workers when dropped.
struct Dismiss<'a>(&'a CrewShared);

impl Drop for Dismiss<'_> {
    fn drop(&mut self) {
        self.0.lock().quit = true;
        self.0.start.notify_all();
    }
}

/// Marks a worker's round as done even if its work panics, so that the caller never waits for it.
struct DoneGuard<'a>(&'a CrewShared);

impl Drop for DoneGuard<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.panicked.store(true, Ordering::Relaxed);
        }
        let mut st = self.0.lock();
        st.done += 1;
        self.0.done.store(st.done, Ordering::Release);
        self.0.finished.notify_all();
    }
}

impl<S> Crew<'_, S> {
    /// Runs `work(i, ·)` for i = 0 … n − 1 on the crew (the calling thread included), each index
    /// once, and returns when all are done. Which thread runs an index is not fixed: `work` must
    /// store its result by index for the outcome to be independent of the thread count.
    ///
    /// # Panics
    /// If `work` panicked on a worker thread.
    pub fn run(&self, n: usize) {
        {
            let mut st = self.shared.lock();
            self.shared.next.store(0, Ordering::Relaxed);
            st.n = n;
            st.done = 0;
            st.round += 1;
            self.shared.done.store(0, Ordering::Release);
            self.shared.round.store(st.round, Ordering::Release);
            self.shared.start.notify_all();
        }
        {
            let mut own = self.own.lock().unwrap_or_else(|e| e.into_inner());
            self.shared.drain(n, self.work, &mut own);
        }
        let workers = self.workers;
        spin_until(|| self.shared.done.load(Ordering::Acquire) >= workers);
        let mut st = self.shared.lock();
        while st.done < self.workers {
            st = self
                .shared
                .finished
                .wait(st)
                .unwrap_or_else(|e| e.into_inner());
        }
        drop(st);
        assert!(
            !self.shared.panicked.load(Ordering::Relaxed),
            "a worker thread panicked"
        );
    }
}

/// Calls `body` with a [`Crew`] of `threads` threads (the caller and `threads − 1` workers, each
/// with its own scratch `init()`) that runs `work` over index ranges, round after round, until
/// `body` returns. `work` reaches each round's inputs through shared state that `body` updates
/// between rounds (e.g. behind an `RwLock`), and stores its results by index.
pub fn with_crew<S, R>(
    threads: usize,
    init: impl Fn() -> S + Sync,
    work: impl Fn(usize, &mut S) + Sync,
    body: impl FnOnce(&Crew<'_, S>) -> R,
) -> R {
    let workers = threads.max(1) - 1;
    let shared = CrewShared {
        state: Mutex::new(CrewState {
            round: 0,
            n: 0,
            done: 0,
            quit: false,
        }),
        start: Condvar::new(),
        finished: Condvar::new(),
        next: AtomicUsize::new(0),
        panicked: AtomicBool::new(false),
        round: AtomicU64::new(0),
        done: AtomicUsize::new(0),
    };
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let (shared, work, init) = (&shared, &work, &init);
            scope.spawn(move || {
                // The scratch is made inside the first round, under its DoneGuard: a panic there
                // is reported to the caller like a panic in `work`, instead of hanging it.
                let mut s: Option<S> = None;
                let mut seen = 0;
                loop {
                    spin_until(|| shared.round.load(Ordering::Acquire) != seen);
                    let n = {
                        let mut st = shared.lock();
                        while st.round == seen && !st.quit {
                            st = shared.start.wait(st).unwrap_or_else(|e| e.into_inner());
                        }
                        if st.quit {
                            return;
                        }
                        seen = st.round;
                        st.n
                    };
                    let _done = DoneGuard(shared);
                    let s = s.get_or_insert_with(init);
                    shared.drain(n, work, s);
                }
            });
        }
        // Dismisses the workers when `body` returns or anything here unwinds — the caller's own
        // `init` included — else the scope would wait for them forever.
        let _dismiss = Dismiss(&shared);
        let crew = Crew {
            shared: &shared,
            work: &work,
            own: Mutex::new(init()),
            workers,
        };
        body(&crew)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_result_for_every_thread_count() {
        let reference = par_map(
            1000,
            1,
            || 0u64,
            |i, calls| {
                *calls += 1;
                (i as f64).sqrt().sin()
            },
        );
        for t in [2, 3, 7, 64, 5000] {
            let v = par_map(1000, t, || 0u64, |i, _| (i as f64).sqrt().sin());
            assert_eq!(v, reference);
        }
        assert!(par_map(0, 4, || (), |i, _| i).is_empty());
    }

    /// A worker whose scratch cannot be made (its `init` panics) makes `run` panic instead of
    /// waiting forever.
    #[test]
    fn a_panicking_worker_init_is_reported() {
        let first = AtomicUsize::new(0);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            with_crew(
                2,
                || {
                    // The caller's scratch is made first; the worker's second call panics.
                    if first.fetch_add(1, Ordering::SeqCst) == 1 {
                        panic!("no scratch");
                    }
                },
                |_, _| {},
                |crew| crew.run(4),
            )
        }));
        assert!(outcome.is_err());
    }

    /// A crew runs every index of every round exactly once, whatever the thread count, and each
    /// round sees the inputs the caller set before it.
    #[test]
    fn crew_rounds_cover_every_index_once() {
        use std::sync::RwLock;
        for threads in [1, 2, 3, 8] {
            let input = RwLock::new(0u64);
            let slots: Vec<Mutex<Vec<u64>>> = (0..37).map(|_| Mutex::new(Vec::new())).collect();
            let calls = AtomicUsize::new(0);
            with_crew(
                threads,
                || (),
                |i, _| {
                    let round = *input.read().unwrap();
                    slots[i].lock().unwrap().push(round * 100 + i as u64);
                    calls.fetch_add(1, Ordering::Relaxed);
                },
                |crew| {
                    for round in 0..50 {
                        *input.write().unwrap() = round;
                        crew.run(if round % 2 == 0 { 37 } else { 5 });
                    }
                },
            );
            assert_eq!(calls.load(Ordering::Relaxed), 25 * 37 + 25 * 5);
            for (i, slot) in slots.iter().enumerate() {
                let want: Vec<u64> = (0..50)
                    .filter(|r| r % 2 == 0 || i < 5)
                    .map(|r| r * 100 + i as u64)
                    .collect();
                assert_eq!(*slot.lock().unwrap(), want, "threads {threads}, index {i}");
            }
        }
    }
}
