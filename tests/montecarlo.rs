//! The Monte Carlo estimator against the exact (quadrature) ELBO and gradient: unbiasedness as a
//! z-test, reproducibility from the seed.

mod common;

use common::{normal_vector, test_rng};
use ima_oracle::elbo::{
    beta_vae, elbo, elbo_on_rule, ElboRule, ElboWorkspace, Order, QuadratureOptions,
};
use ima_oracle::generate::{self, rng};
use ima_oracle::montecarlo::elbo_monte_carlo;
use ima_oracle::{Model, Prior};

/// With K = 40 000 samples, the MC value and each gradient entry lie within 5 standard errors of the
/// exact numbers (the seed is fixed, so the test is deterministic; for a correct estimator the chance
/// that any of these 13 comparisons exceeds 5σ is ~1e-5 per seed).
#[test]
fn unbiased_against_exact() {
    let mut r = test_rng(50);
    let q = QuadratureOptions::default();
    for prior in [Prior::standard_normal(), Prior::logistic(0.8).unwrap()] {
        let model =
            Model::new(prior, generate::mlp_orthogonal(3, 2, 0.2, &mut r).unwrap()).unwrap();
        let x = model
            .decoder()
            .forward(&normal_vector(3, 0.5, &mut r))
            .unwrap();
        let mu = model.decoder().inverse(&x).unwrap() + normal_vector(3, 0.05, &mut r);
        let lv = [-4.0, -5.0, -4.5];
        let gamma2 = 100.0;
        let mc = elbo_monte_carlo(
            &model,
            x.as_slice(),
            mu.as_slice(),
            &lv,
            gamma2,
            1.0,
            40_000,
            &mut rng(7),
        )
        .unwrap();
        let exact = elbo(&model, x.as_slice(), mu.as_slice(), &lv, gamma2, &q).unwrap();
        assert!(
            (mc.value.mean - exact.value).abs() <= 5.0 * mc.value.std_err,
            "{}: {} ± {} vs {}",
            prior.name(),
            mc.value.mean,
            mc.value.std_err,
            exact.value
        );
        let rule = ElboRule::new(exact.nodes_per_dim, 3, 1 << 22).unwrap();
        let g = elbo_on_rule(
            &model,
            x.as_slice(),
            mu.as_slice(),
            &lv,
            gamma2,
            &rule,
            Order::Gradient,
            &mut ElboWorkspace::new(&model),
        )
        .unwrap()
        .gradient
        .unwrap();
        for i in 0..6 {
            assert!(
                (mc.gradient[i] - g[i]).abs() <= 5.0 * mc.gradient_std_err[i] + 1e-12,
                "{} ∂{i}: {} ± {} vs {}",
                prior.name(),
                mc.gradient[i],
                mc.gradient_std_err[i],
                g[i]
            );
        }
        let beta = 0.3;
        let mcb = elbo_monte_carlo(
            &model,
            x.as_slice(),
            mu.as_slice(),
            &lv,
            gamma2,
            beta,
            40_000,
            &mut rng(8),
        )
        .unwrap();
        let eb = beta_vae(&model, x.as_slice(), mu.as_slice(), &lv, gamma2, beta, &q).unwrap();
        assert!((mcb.value.mean - eb.value).abs() <= 5.0 * mcb.value.std_err);
    }
}

/// The same seed gives the same numbers, bit for bit; the standard error falls like 1/√K.
#[test]
fn reproducible_and_root_k() {
    let mut r = test_rng(51);
    let model = Model::new(
        Prior::standard_normal(),
        generate::mlp_triangular(2, 2, 0.2, &mut r).unwrap(),
    )
    .unwrap();
    let x = [0.3, -0.1];
    let (mu, lv) = ([0.1, 0.2], [-2.0, -3.0]);
    let a = elbo_monte_carlo(&model, &x, &mu, &lv, 10.0, 1.0, 1000, &mut rng(1)).unwrap();
    let b = elbo_monte_carlo(&model, &x, &mu, &lv, 10.0, 1.0, 1000, &mut rng(1)).unwrap();
    assert_eq!(a, b);
    let c = elbo_monte_carlo(&model, &x, &mu, &lv, 10.0, 1.0, 16_000, &mut rng(2)).unwrap();
    // std_err ratio √16 = 4, up to the sampling noise of the standard deviations (±10 % here).
    let ratio = a.value.std_err / c.value.std_err;
    assert!((ratio - 4.0).abs() < 0.6, "{ratio}");
    assert!(elbo_monte_carlo(&model, &x, &mu, &lv, 10.0, 1.0, 1, &mut rng(1)).is_err());
}
