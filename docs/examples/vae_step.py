"""Reproduce one VAE training step and ten Adam steps of ima-oracle with numpy only.

Usage: python3 vae_step.py [PATH/TO/tests/golden/vae-step]

An independent implementation (forward pass, hand-written backward pass, Adam) of what a PyTorch or
JAX training step computes, checked against the oracle's golden vectors: the loss, every gradient
array and the weights after ten Adam steps. A backend does the same with its own code: load
vae/*.npy into its layers (weight is (out, in), as torch.nn.Linear keeps it), feed x.npy and
eps.npy, compare with step/ and adam10/.
"""
import sys
from pathlib import Path

import numpy as np

golden = Path(sys.argv[1] if len(sys.argv) > 1 else "tests/golden/vae-step")
GAMMA2, LR, ALPHA = 1e3, 1e-3, 0.2


def layers(folder, manifest):
    """[(W, b, W name, b name) or 'act'] from a manifest of linear and leaky_softplus steps."""
    out = []
    for line in (folder / manifest).read_text().splitlines():
        words = line.split()
        if words[0] != "step":
            continue
        if words[1] == "linear":
            out.append([np.load(folder / words[2]), np.load(folder / words[3]), words[2][:-4], words[3][:-4]])
        else:
            assert words[1] == "leaky_softplus" and float(words[2]) == ALPHA
            out.append("act")
    return out


def forward(net, u):
    """Activations of every layer for a batch u (B, n)."""
    acts = [u]
    for layer in net:
        if layer == "act":
            # a(t) = 0.2 t + 0.8 log(1 + e^t), stably
            acts.append(ALPHA * u + (1 - ALPHA) * np.logaddexp(0.0, u))
        else:
            acts.append(u @ layer[0].T + layer[1])
        u = acts[-1]
    return acts


def backward(net, acts, r, grads):
    """r = dL/d(output) (B, m); accumulates dL/dW, dL/db into grads; returns dL/d(input)."""
    for layer, u in zip(reversed(net), reversed(acts[:-1])):
        if layer == "act":
            r = r * (ALPHA + (1 - ALPHA) / (1 + np.exp(-u)))
        else:
            grads[layer[2]] = grads.get(layer[2], 0) + r.T @ u
            grads[layer[3]] = grads.get(layer[3], 0) + r.sum(axis=0)
            r = r @ layer[0]
    return r


def step(enc, dec, x, eps):
    """The loss -(1/B) sum_i L_i and its gradient, Gaussian prior N(0, I), one noise sample."""
    b, dd = x.shape
    d = eps.shape[-1]
    eps = eps.reshape(b, d)
    ea = forward(enc, x)
    mu, s = ea[-1][:, :d], ea[-1][:, d:]
    sig = np.exp(0.5 * s)
    z = mu + sig * eps
    da = forward(dec, z)
    res = x - da[-1]
    kl = 0.5 * np.sum(np.exp(s) + mu**2 - 1 - s, axis=1)
    elbo = 0.5 * dd * np.log(GAMMA2 / (2 * np.pi)) - 0.5 * GAMMA2 * np.sum(res**2, axis=1) - kl
    grads = {}
    r_f = -(GAMMA2 * res) / b  # d loss/d f, loss = -mean(elbo)
    r_z = backward(dec, da, r_f, grads)
    r_mu = r_z + mu / b
    r_s = r_z * eps * sig * 0.5 + 0.5 * (np.exp(s) - 1) / b
    backward(enc, ea, np.hstack([r_mu, r_s]), grads)
    return -elbo.mean(), elbo, grads


def params(net):
    for layer in net:
        if layer != "act":
            yield layer


def worst(a, b):
    return float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b))))


enc, dec = layers(golden / "vae", "encoder.txt"), layers(golden / "vae", "model.txt")
x, eps = np.load(golden / "x.npy"), np.load(golden / "eps.npy")
loss, elbo, grads = step(enc, dec, x, eps)
errors = {"loss": worst(loss, np.load(golden / "step/loss.npy")), "elbo": worst(elbo, np.load(golden / "step/elbo.npy"))}
for name, g in grads.items():
    errors["grad_" + name] = worst(g, np.load(golden / "step" / f"grad_{name}.npy"))

# Ten Adam steps on the same batch and noise (PyTorch's semantics and operation order).
m = {n: 0.0 for n in grads}
v = {n: 0.0 for n in grads}
for t in range(1, 11):
    _, _, g = step(enc, dec, x, eps)
    for layer in list(params(enc)) + list(params(dec)):
        for k, name in ((0, layer[2]), (1, layer[3])):
            m[name] = m[name] + (g[name] - m[name]) * (1 - 0.9)
            v[name] = v[name] * 0.999 + (1 - 0.999) * g[name] * g[name]  # torch's addcmul order
            bc1, bc2 = 1 - 0.9**t, 1 - 0.999**t
            denom = np.sqrt(v[name]) / np.sqrt(bc2) + 1e-8
            layer[k] = layer[k] + ((-(LR / bc1)) * m[name]) / denom  # torch's addcdiv
for layer in list(params(enc)) + list(params(dec)):
    for k, name in ((0, layer[2]), (1, layer[3])):
        errors["adam10/" + name] = worst(layer[k], np.load(golden / "adam10" / f"{name}.npy"))

for name, e in errors.items():
    print(f"{name:>16}: {e:.1e}")
bad = {n: e for n, e in errors.items() if not e <= 1e-12}
print("agree to 1e-12" if not bad else f"DIFFER: {bad}")
sys.exit(1 if bad else 0)
