use ima_oracle::elbo::QuadratureOptions;
use ima_oracle::generate::{self, Family};
use ima_oracle::marginal::{log_marginal, log_marginal_x_space};
use ima_oracle::optimal::optimal_encoder;
use ima_oracle::theory::{ima_regularised_flow, AffineGaussian};
use ima_oracle::{ima, Model, Prior};
use nalgebra::DVector;
fn main() {
    let mut r = generate::rng(3);
    let o = QuadratureOptions::default();
    let dec = generate::affine_decoder(3, &mut r).unwrap();
    let model = Model::new(Prior::gaussian(1.0).unwrap(), dec).unwrap();
    let x = [0.3, -0.5, 1.2];
    for g2 in [1.0, 10.0, 1e3, 1e5, 1e8, 1e10] {
        let c = AffineGaussian::new(&model, &x, g2).unwrap();
        let m = log_marginal(&model, &x, g2, &o).unwrap();
        let mx = log_marginal_x_space(&model, &x, g2, &o);
        println!(
            "affine γ²={g2:e}: closed {:.15} laplace-route {:.2e} (n {}) x-space {:?}",
            c.log_marginal,
            m.value - c.log_marginal,
            m.nodes_per_dim,
            mx.map(|v| (v.value - c.log_marginal, v.nodes_per_dim))
        );
    }
    for fam in Family::ALL {
        for prior in [Prior::standard_normal(), Prior::logistic(1.0).unwrap()] {
            let dec = fam.build(3, &mut r).unwrap();
            let model = Model::new(prior, dec).unwrap();
            let z = DVector::from_vec(vec![0.3, -0.2, 0.5]);
            let x = model.decoder().forward(&z).unwrap();
            let lf = ima::log_flow_likelihood(model.decoder(), model.prior(), &x).unwrap();
            let lima = ima_regularised_flow(&model, x.as_slice()).unwrap();
            for g2 in [1.0, 10.0, 1e3, 1e5, 1e8, 1e10] {
                let t = std::time::Instant::now();
                let m = log_marginal(&model, x.as_slice(), g2, &o);
                let mx = log_marginal_x_space(&model, x.as_slice(), g2, &o);
                let e = optimal_encoder(&model, x.as_slice(), g2, &o);
                match (m, mx) {
                    (Ok(m), Ok(mx)) => {
                        let s = match &e {
                            Ok(e) => format!(
                                "ELBO*-logp {:.3e} ELBO*-L_IMA {:.3e} (ELBO*-logp+c) {:.3e}",
                                e.elbo - m.value,
                                e.elbo - lima,
                                e.elbo - m.value + (lf - lima)
                            ),
                            Err(er) => format!("{er}"),
                        };
                        println!("{} {} γ²={g2:e}: logp {:.14} nL {} nX {} diff {:.2e} logp-flow {:.3e} {s} {:?}", fam.name(), prior.name(), m.value, m.nodes_per_dim, mx.nodes_per_dim, m.value - mx.value, m.value - lf, t.elapsed())
                    }
                    (a, b) => println!(
                        "{} γ²={g2:e}: {:?} {:?}",
                        fam.name(),
                        a.err().map(|e| e.to_string()),
                        b.err().map(|e| e.to_string())
                    ),
                }
            }
        }
    }
}
