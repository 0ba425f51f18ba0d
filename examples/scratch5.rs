use ima_oracle::elbo::QuadratureOptions;
use ima_oracle::generate::{rng, Family};
use ima_oracle::marginal::log_marginal_laplace;
use ima_oracle::{Model, Prior, Source};
use nalgebra::DVector;
fn main() {
    let mut r = rng(1);
    let mut cases = vec![];
    for family in Family::ALL {
        for prior in [Prior::standard_normal(), Prior::logistic(0.6).unwrap()] {
            let model = Model::new(prior, family.build(3, &mut r).unwrap()).unwrap();
            let source = if family.name().starts_with("moebius") {
                Source::uniform(-0.5, 0.5).unwrap()
            } else {
                Source::Prior(prior)
            };
            let xs: Vec<DVector<f64>> = (0..20)
                .map(|_| {
                    let z = DVector::from_fn(3, |_, _| source.sample_1d(&mut r));
                    model.decoder().forward(&z).unwrap()
                })
                .collect();
            cases.push((family, prior, model, xs));
        }
    }
    for ci in [2, 4, 5] {
        let (f, p, model, xs) = &cases[ci];
        for x in xs.iter().take(2) {
            for g2 in [10.0, 100.0, 464.0] {
                let q = QuadratureOptions {
                    tol: 1e-6 / g2,
                    ..Default::default()
                };
                let t = std::time::Instant::now();
                let m = log_marginal_laplace(model, x.as_slice(), g2, &q);
                println!(
                    "{} {} γ²={g2:.2e} {:?} {:?}",
                    f.name(),
                    p.name(),
                    m.map(|m| (m.nodes_per_dim, m.value))
                        .map_err(|e| e.to_string()),
                    t.elapsed()
                );
            }
        }
    }
}
