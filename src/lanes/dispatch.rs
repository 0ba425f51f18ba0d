//! Run-time choice of the vector unit: a kernel compiled three times, for the baseline target, with
//! AVX2 and with AVX-512F enabled, and run the widest way the CPU has (`is_x86_feature_detected!`,
//! cached by the standard library). A block of [`super::LANES`] = 8 doubles is one AVX-512
//! register, two AVX2 ones.
//!
//! The bits do not change: all compilations perform the same IEEE operations in the same order —
//! Rust never fuses a multiply and an add (no contraction without fast-math; AVX-512F implies the
//! FMA instructions, but the compiler only emits them for an explicit `mul_add`, which no kernel
//! calls) — so a kernel gives the same result on every x86-64 machine; only the width of the
//! registers differs. Unit tests run the kernels the AVX-512 way (where the CPU has it), the AVX2
//! way ([`with_avx2_at_most`]) and the portable way, and compare the bits. What the kernel calls must be inlined into it (`#[inline(always)]`, as the
//! [`super::math`] kernels are) to be compiled for AVX2.

/// `avx2_kernel! { [vis] fn name / portable(arg: Type, …) { body } }` defines `fn portable(arg: Type, …)`
/// (the body, `#[inline(always)]`, compiled for whatever calls it) and `fn name(arg: Type, …)`,
/// which runs it compiled for AVX2 where the CPU has it and for the baseline target otherwise
/// (module docs); tests compare the two. The body returns `()` and may not use `self` (pass the
/// receiver as an argument).
macro_rules! avx2_kernel {
    ($(#[$meta:meta])* $vis:vis fn $name:ident / $portable:ident($($arg:ident: $ty:ty),* $(,)?) $body:block) => {
        /// The kernel's body, compiled for its caller's target (see `avx2_kernel!`).
        #[inline(always)]
        fn $portable($($arg: $ty),*) $body

        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f")]
            fn avx512($($arg: $ty),*) {
                $portable($($arg),*)
            }
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2")]
            fn avx2($($arg: $ty),*) {
                $portable($($arg),*)
            }
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx512f")
                && !$crate::lanes::dispatch::avx512_withheld()
            {
                // SAFETY: as for `avx2` below, with AVX-512F detected.
                #[allow(unsafe_code)]
                unsafe {
                    avx512($($arg),*)
                };
                return;
            }
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: `avx2` is safe code compiled with AVX2 enabled; calling it is sound
                // exactly when the CPU executes AVX2 instructions, which the detection above
                // established.
                #[allow(unsafe_code)]
                unsafe {
                    avx2($($arg),*)
                };
                return;
            }
            $portable($($arg),*)
        }
    };
}
pub(crate) use avx2_kernel;

#[cfg(test)]
thread_local! {
    /// Set by [`with_avx2_at_most`]: this thread's kernels skip the AVX-512 compilation.
    static AVX512_WITHHELD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether this thread's kernels must skip AVX-512 (only ever in unit tests).
#[cfg(test)]
pub(crate) fn avx512_withheld() -> bool {
    AVX512_WITHHELD.with(|w| w.get())
}

/// Whether this thread's kernels must skip AVX-512: never, outside unit tests.
#[cfg(not(test))]
#[inline(always)]
pub(crate) fn avx512_withheld() -> bool {
    false
}

/// Runs `f` with this thread's kernels compiled for AVX2 at most (where the CPU has AVX-512), so
/// that a test can compare the AVX2 compilation's bits too.
#[cfg(test)]
pub(crate) fn with_avx2_at_most<R>(f: impl FnOnce() -> R) -> R {
    AVX512_WITHHELD.with(|w| w.set(true));
    let r = f();
    AVX512_WITHHELD.with(|w| w.set(false));
    r
}
