"""Cross-check a torch-style MLP against ima-oracle with numpy only.

Usage: python3 cross_check.py PATH/TO/ima-oracle WORKDIR
(run `cargo build --release` first; the binary is target/release/ima-oracle).
"""
import subprocess
import sys
from pathlib import Path

import numpy as np

oracle, work = sys.argv[1], Path(sys.argv[2])
model = work / "model"
model.mkdir(parents=True, exist_ok=True)

# 1. A decoder 3 -> 3 -> 3 with biases, weights stored (out, in) as torch.nn.Linear keeps them.
rng = np.random.default_rng(0)
q1, _ = np.linalg.qr(rng.standard_normal((3, 3)))
q2, _ = np.linalg.qr(rng.standard_normal((3, 3)))
b1 = 0.1 * rng.standard_normal(3)
np.save(model / "W1.npy", q1)
np.save(model / "b1.npy", b1)
np.save(model / "W2.npy", q2)
(model / "model.txt").write_text(
    "ima-oracle model 1\n"
    "dim 3\n"
    "prior gaussian 1.0\n"
    "step linear W1.npy b1.npy\n"
    "step leaky_softplus 0.2\n"
    "step linear W2.npy\n"
)

def leaky(t):
    return 0.2 * t + 0.8 * np.logaddexp(0.0, t)

def decoder(z):                      # "our" implementation, in numpy, rows are points
    return leaky(z @ q1.T + b1) @ q2.T

# 2. Data: sources and observations from our implementation.
z = rng.standard_normal((16, 3))
x = decoder(z)
theirs = work / "theirs"
theirs.mkdir(exist_ok=True)
np.save(theirs / "z.npy", z)
np.save(theirs / "x.npy", x)
np.save(work / "x.npy", x)

# 3. The oracle's numbers at gamma^2 = 1e4 (--force: a second run may replace the first's files;
#    without it the oracle refuses to write into a non-empty folder).
ours = work / "ours"
subprocess.run([oracle, "eval", str(model), "--x", str(work / "x.npy"),
                "--gamma2", "1e4", "--out", str(ours), "--force"], check=True)
mu_hat = np.load(ours / "mu_hat.npy")
elbo_star = np.load(ours / "elbo_star.npy")
print("ELBO* of the first points:", elbo_star[:3])

# 4. Our ELBO at the oracle's optimal encoder, by Monte Carlo with closed-form KL, and its
#    standard error; the oracle's exact ELBO and gradient for the same encoder.
logvar = np.load(ours / "logvar_hat.npy")
K, g2 = 4000, 1e4
eps = rng.standard_normal((K,) + mu_hat.shape)
zs = mu_hat + np.exp(0.5 * logvar) * eps
rec = -0.5 * g2 * ((x - decoder(zs.reshape(-1, 3)).reshape(zs.shape)) ** 2).sum(-1)
kl = 0.5 * (mu_hat ** 2 + np.exp(logvar) - 1.0 - logvar).sum(-1)
samples = 1.5 * np.log(g2 / (2 * np.pi)) + rec - kl
np.save(theirs / "elbo_mc.npy", samples.mean(0))
np.save(theirs / "elbo_mc_se.npy", samples.std(0, ddof=1) / np.sqrt(K))
subprocess.run([oracle, "elbo", str(model), "--x", str(work / "x.npy"), "--mu", str(ours / "mu_hat.npy"),
                "--logvar", str(ours / "logvar_hat.npy"), "--gamma2", "1e4", "--out", str(work / "exact"),
                "--force"],
               check=True)
(ours / "elbo.npy").write_bytes((work / "exact" / "elbo.npy").read_bytes())

# 5. Compare: the z-test of our Monte Carlo ELBO, the data consistency of z and x, and the
#    goodness of fit of z to the prior. Exit status 0: all agree; 1: a difference; 3: only
#    entries the oracle refused were left unverified.
result = subprocess.run([oracle, "check", str(model), "--ours", str(ours), "--theirs", str(theirs)])
sys.exit(result.returncode)
