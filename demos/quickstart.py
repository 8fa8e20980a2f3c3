"""A first look: fit a two-layer network to two noisy spirals with plain autograd.

    python demos/quickstart.py

Every parameter is a leaf Tensor; the loss is built from primitive ops; one
call to ``backward()`` fills every ``.grad``; SGD updates each parameter in
place, under ``no_grad`` (the update is not part of the model).
"""
import numpy as np

import tinygrad_bn as tg


def spirals(n, rng):
    t = np.sqrt(rng.random(n)) * 3 * np.pi
    labels = rng.integers(0, 2, n)
    sign = np.where(labels == 1, 1.0, -1.0)
    points = np.stack([sign * t * np.cos(t), sign * t * np.sin(t)], axis=1) / 10
    return (points + 0.02 * rng.standard_normal((n, 2))).astype(np.float32), labels.astype(np.float32)


def main(steps=2000, hidden=32, lr=0.5, seed=0):
    tg.manual_seed(seed)
    points, labels = spirals(512, np.random.default_rng(seed))
    x, y = tg.tensor(points), tg.tensor(labels).reshape(-1, 1)
    w1 = (tg.randn(2, hidden) * 1.0).requires_grad_()
    b1 = tg.zeros(hidden, requires_grad=True)
    w2 = (tg.randn(hidden, 1) * (1 / hidden ** 0.5)).requires_grad_()
    b2 = tg.zeros(1, requires_grad=True)
    params = [w1, b1, w2, b2]
    for step in range(steps + 1):
        p = ((x @ w1 + b1).tanh() @ w2 + b2).sigmoid()
        loss = -(y * (p + 1e-7).log() + (1 - y) * (1 - p + 1e-7).log()).mean()
        for param in params:
            param.grad = None
        loss.backward()
        with tg.no_grad():
            for param in params:
                param -= lr * param.grad
        if step % 400 == 0:
            accuracy = ((p > 0.5) == (y > 0.5)).float().mean().item()
            print(f"step {step:5d}  loss {loss:.4f}  train accuracy {accuracy:.3f}")
    return accuracy


if __name__ == "__main__":
    main()
