use ima_oracle::elbo::QuadratureOptions;
use ima_oracle::generate::{rng, Family};
use ima_oracle::marginal::log_marginal;
use ima_oracle::optimal::optimal_encoder;
use ima_oracle::{Model, Prior, Source};
use nalgebra::DVector;
fn main() {
    let mut r = rng(1);
    let mut cases = vec![];
    for family in Family::ALL {
        for prior in [Prior::standard_normal(), Prior::logistic(1.0).unwrap()] {
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
    let (f, p, model, xs) = &cases[5];
    println!("{} {}", f.name(), p.name());
    for x in xs.iter().take(3) {
        for i in 0..9 {
            let g2 = 10f64.powf(1.0 + i as f64 / 3.0);
            let tol = (1e-6 / g2).max(1e-13);
            let q = QuadratureOptions {
                tol,
                ..Default::default()
            };
            let t = std::time::Instant::now();
            let o = optimal_encoder(model, x.as_slice(), g2, &q);
            let t1 = t.elapsed();
            let m = log_marginal(model, x.as_slice(), g2, &q);
            println!(
                "γ²={g2:.2e} enc {:?} {:?} | marg {:?} {:?}",
                o.map(|o| (o.nodes_per_dim, o.iterations, o.evaluations))
                    .map_err(|e| e.to_string()),
                t1,
                m.map(|m| (m.nodes_per_dim, m.route))
                    .map_err(|e| e.to_string()),
                t.elapsed() - t1
            );
        }
    }
}
