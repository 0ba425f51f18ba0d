use ima_oracle::elbo::QuadratureOptions;
use ima_oracle::generate::{self, Family};
use ima_oracle::optimal::optimal_encoder;
use ima_oracle::theory::AffineGaussian;
use ima_oracle::{Model, Prior};
use nalgebra::DVector;
fn main() {
    let mut r = generate::rng(3);
    let dec = generate::affine_decoder(3, &mut r).unwrap();
    let model = Model::new(Prior::gaussian(1.0).unwrap(), dec).unwrap();
    let x = [0.3, -0.5, 1.2];
    for g2 in [1.0, 10.0, 1e3, 1e5, 1e8, 1e10] {
        let o = optimal_encoder(&model, &x, g2, &QuadratureOptions::default()).unwrap();
        let c = AffineGaussian::new(&model, &x, g2).unwrap();
        println!("γ²={g2:e}: it {} n {} term {:?} dμ {:.2e} dσ²rel {:.2e} dELBO {:.2e} (ELBO {:.6}) decs {:?}",
            o.iterations, o.nodes_per_dim, o.termination,
            (&o.mu - &c.posterior_mean).amax(), ((&o.sigma2 - &c.sigma2).component_div(&c.sigma2)).amax(),
            (o.elbo - c.elbo_star).abs(), o.elbo, o.min_curvature);
    }
    for fam in Family::ALL {
        let dec = fam.build(3, &mut r).unwrap();
        let model = Model::new(Prior::logistic(1.0).unwrap(), dec).unwrap();
        let z = DVector::from_vec(vec![0.3, -0.2, 0.5]);
        let x = model.decoder().forward(&z).unwrap();
        for g2 in [1.0, 10.0, 1e3, 1e5, 1e8, 1e10] {
            let t = std::time::Instant::now();
            match optimal_encoder(&model, x.as_slice(), g2, &QuadratureOptions::default()) {
                Ok(o) => println!("{} γ²={g2:e}: it {} ev {} n {} term {:?} err {:.1e} loc {:.1e} |μ-g| {:.3e} ELBO {:.12} curv {:.2e} {:?}", fam.name(), o.iterations, o.evaluations, o.nodes_per_dim, o.termination, o.error_estimate, o.location_error, (&o.mu - &z).amax(), o.elbo, o.min_curvature, t.elapsed()),
                Err(e) => println!("{} γ²={g2:e}: ERROR {e}", fam.name()),
            }
        }
    }
}
