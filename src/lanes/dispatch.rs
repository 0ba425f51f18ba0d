//! Run-time choice of the vector unit: a kernel compiled twice, for the baseline target and with
//! AVX2 enabled, and run the AVX2 way where the CPU has it (`is_x86_feature_detected!`, cached by
//! the standard library).
//!
//! The bits do not change: both compilations perform the same IEEE operations in the same order —
//! Rust never fuses a multiply and an add (no contraction without fast-math), and AVX2 is enabled
//! without FMA — so a kernel gives the same result on every x86-64 machine; only the width of the
//! registers differs. What the kernel calls must be inlined into it (`#[inline(always)]`, as the
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
            #[target_feature(enable = "avx2")]
            fn avx2($($arg: $ty),*) {
                $portable($($arg),*)
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
