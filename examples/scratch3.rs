use ima_oracle::elbo::QuadratureOptions;
use ima_oracle::generate::{self, Family};
use ima_oracle::marginal::log_marginal;
use ima_oracle::optimal::optimal_encoder;
use ima_oracle::{Model, Prior};
use nalgebra::DVector;
fn main() {
    let mut r = generate::rng(5);
    for fam in Family::ALL {
        for prior in [Prior::standard_normal(), Prior::logistic(1.0).unwrap()] {
            let model = Model::new(prior, fam.build(3, &mut r).unwrap()).unwrap();
            let x = model
                .decoder()
                .forward(&DVector::from_vec(vec![0.2, -0.3, 0.4]))
                .unwrap();
            for g2 in [1e1, 2.15e1, 4.64e1, 1e2, 1e3] {
                for tol in [1e-13, 1e-10] {
                    let q = QuadratureOptions {
                        tol,
                        ..Default::default()
                    };
                    let t = std::time::Instant::now();
                    let a = optimal_encoder(&model, x.as_slice(), g2, &q);
                    let t1 = t.elapsed();
                    let b = log_marginal(&model, x.as_slice(), g2, &q);
                    println!(
                        "{} {} {g2:e} tol {tol:e}: enc {:?} {:?} marg {:?} {:?}",
                        fam.name(),
                        prior.name(),
                        a.as_ref().map(|o| o.nodes_per_dim).map_err(|_| "err"),
                        t1,
                        b.as_ref().map(|o| o.nodes_per_dim).map_err(|_| "err"),
                        t.elapsed() - t1
                    );
                }
            }
        }
    }
}
