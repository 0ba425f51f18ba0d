//! Parallel maps over points with `std::thread::scope`, whose results do not depend on the number
//! of threads: point i is always computed by the same sequential code on its own inputs, and the
//! results are stored by index. Each worker thread builds its own scratch state once.

use std::num::NonZeroUsize;

/// The number of threads to use: `requested`, or the machine's available parallelism when `None`.
pub fn thread_count(requested: Option<usize>) -> usize {
    requested
        .filter(|&t| t > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, NonZeroUsize::get))
}

/// [f(0, s), f(1, s), …, f(n − 1, s)] computed on `threads` threads in contiguous blocks, each
/// thread with its own scratch `s = init()`. Bitwise identical for every thread count.
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
    let chunk = n.div_ceil(threads);
    let mut out: Vec<Option<T>> = (0..n).map(|_| None).collect();
    std::thread::scope(|scope| {
        for (c, slot) in out.chunks_mut(chunk).enumerate() {
            let (init, f) = (&init, &f);
            scope.spawn(move || {
                let mut s = init();
                for (k, o) in slot.iter_mut().enumerate() {
                    *o = Some(f(c * chunk + k, &mut s));
                }
            });
        }
    });
    out.into_iter()
        .map(|o| o.expect("every slot is filled by its thread"))
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
