use ima_oracle::elbo::{elbo_on_rule, ElboRule, ElboWorkspace, Order};
use ima_oracle::model_file::load_model;
use nalgebra::DVector;
fn main() {
    let model = load_model(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/models/mlp3"
    ))
    .unwrap();
    let rule = ElboRule::new(8, 3, 1 << 20).unwrap();
    let mut ws = ElboWorkspace::new(&model);
    let z = DVector::from_vec(vec![0.3, -0.2, 0.5]);
    let x = model.decoder().forward(&z).unwrap();
    let mut acc = 0.0;
    let order = if std::env::args().any(|a| a == "hess") {
        Order::Hessian
    } else {
        Order::Gradient
    };
    for i in 0..3000 {
        let mu = [0.3 + 1e-9 * i as f64, -0.2, 0.5];
        acc += elbo_on_rule(
            &model,
            x.as_slice(),
            &mu,
            &[-9.0, -9.0, -9.0],
            1e4,
            &rule,
            order,
            &mut ws,
        )
        .unwrap()
        .value;
    }
    println!("{acc}");
}
