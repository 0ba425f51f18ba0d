//! The Monte Carlo estimator against the exact (quadrature) ELBO and gradient: unbiasedness as a
//! z-test, reproducibility from the seed.

mod common;

use common::{assert_near, normal_vector, test_rng, Tol};
use ima_oracle::generate::{self, rng};
use ima_oracle::objective::{
    beta_vae, elbo, elbo_monte_carlo, elbo_on_rule, DerivativeOrder, ElboWorkspace,
};
use ima_oracle::quadrature::{QuadratureOptions, TensorRule};
use ima_oracle::{Beta, Model, Prior, Query};

/// With K = 40 000 samples, the MC value and each gradient entry lie within 5 standard errors of the
/// exact numbers (the seed is fixed, so the test is deterministic; for a correct estimator the chance
/// that any of these 24 comparisons (8 per prior) exceeds 5σ is ~1.4e-5 per seed).
#[test]
fn unbiased_against_exact() {
    let mut r = test_rng(50);
    let q = QuadratureOptions::default();
    for prior in [
        Prior::standard_normal(),
        Prior::logistic(0.8).unwrap(),
        Prior::beta_logistic(2.0, 0.5).unwrap(),
    ] {
        let model =
            Model::new(prior, generate::mlp_orthogonal(3, 2, 0.2, &mut r).unwrap()).unwrap();
        let x = model
            .decoder()
            .forward(&normal_vector(3, 0.5, &mut r))
            .unwrap();
        let mu = model.decoder().inverse(&x).unwrap() + normal_vector(3, 0.05, &mut r);
        let lv = [-4.0, -5.0, -4.5];
        let gamma2 = 100.0;
        let query = Query::new(&model, x.as_slice(), gamma2).unwrap();
        let enc = query.encoder(mu.as_slice(), &lv).unwrap();
        let mc = elbo_monte_carlo(&query, &enc, Beta::ONE, 40_000, &mut rng(7)).unwrap();
        let exact = elbo(&query, &enc, &q).unwrap();
        assert_near(
            &format!("{}: MC ELBO ± {}", prior.name(), mc.value.std_err),
            mc.value.mean,
            exact.value,
            Tol::Scaled(5.0, mc.value.std_err),
        );
        let rule = TensorRule::new(exact.nodes_per_dim, 3, 1 << 22).unwrap();
        let g = elbo_on_rule(
            &query,
            &enc,
            &rule,
            DerivativeOrder::Gradient,
            &mut ElboWorkspace::new(&model),
        )
        .unwrap()
        .gradient
        .unwrap();
        for i in 0..6 {
            assert_near(
                &format!("{} MC ∂{i} ± {}", prior.name(), mc.gradient_std_err[i]),
                mc.gradient[i],
                g[i],
                Tol::Scaled(1.0, 5.0 * mc.gradient_std_err[i] + 1e-12),
            );
        }
        let beta = Beta::new(0.3).unwrap();
        let mcb = elbo_monte_carlo(&query, &enc, beta, 40_000, &mut rng(8)).unwrap();
        let eb = beta_vae(&query, &enc, beta, &q).unwrap();
        assert_near(
            &format!("{}: MC β-objective ± {}", prior.name(), mcb.value.std_err),
            mcb.value.mean,
            eb.value,
            Tol::Scaled(5.0, mcb.value.std_err),
        );
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
    let query = Query::new(&model, &[0.3, -0.1], 10.0).unwrap();
    let enc = query.encoder(&[0.1, 0.2], &[-2.0, -3.0]).unwrap();
    let a = elbo_monte_carlo(&query, &enc, Beta::ONE, 1000, &mut rng(1)).unwrap();
    let b = elbo_monte_carlo(&query, &enc, Beta::ONE, 1000, &mut rng(1)).unwrap();
    assert_eq!(a, b);
    let c = elbo_monte_carlo(&query, &enc, Beta::ONE, 16_000, &mut rng(2)).unwrap();
    // std_err ratio √16 = 4, up to the sampling noise of the standard deviations (±10 % here).
    let ratio = a.value.std_err / c.value.std_err;
    assert_near("std_err ratio", ratio, 4.0, Tol::Scaled(0.6, 1.0));
    assert!(elbo_monte_carlo(&query, &enc, Beta::ONE, 1, &mut rng(1)).is_err());
}
