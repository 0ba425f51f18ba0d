//! Parallel maps over points with `std::thread::scope`, whose results do not depend on the number
//! of threads: point i is always computed by the same sequential code on its own inputs, and the
//! results are stored by index. Each worker thread builds its own scratch state once.

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};

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
}
