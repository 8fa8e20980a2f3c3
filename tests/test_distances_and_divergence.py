"""huber_loss, kl_div, normalize, cosine_similarity and pairwise_distance (and their
modules): values against closed forms in NumPy, gradcheck and gradgradcheck, edge cases
(zero vectors, zero probabilities), and torch itself."""
import warnings

import numpy as np
import pytest

import tinygrad_bn as tg
import tinygrad_bn.nn.functional as F
from tinygrad_bn import nn
from opcheck import check_op

RNG = np.random.default_rng(7)          # (not 0: gradcheck draws its upstream gradient from seed 0)
A, B = RNG.normal(size=(4, 5)), RNG.normal(size=(4, 5))
P = np.exp(B) / np.exp(B).sum(1, keepdims=True)            # a distribution per row, all positive
LOG_Q = A - np.log(np.exp(A).sum(1, keepdims=True))


def np_huber(d, delta):
    return np.where(np.abs(d) < delta, 0.5 * d * d, delta * (np.abs(d) - 0.5 * delta))


CASES = {
    "huber": (lambda x, y: F.huber_loss(x, y, reduction="none", delta=0.7), lambda x, y: np_huber(x - y, 0.7),
              [A, B]),
    "huber_mean": (lambda x, y: F.huber_loss(x, y), lambda x, y: np_huber(x - y, 1.0).mean(), [A, B]),
    "kl_batchmean": (lambda x, y: F.kl_div(x, y, reduction="batchmean"),
                     lambda x, y: (y * (np.log(y) - x)).sum() / 4, [LOG_Q, P]),
    "kl_log_target": (lambda x, y: F.kl_div(x, y, reduction="sum", log_target=True),
                      lambda x, y: (np.exp(y) * (y - x)).sum(), [LOG_Q, np.log(P)]),
    "normalize": (F.normalize, lambda x: x / np.linalg.norm(x, axis=1, keepdims=True), [A]),
    "normalize_l1_dim0": (lambda x: F.normalize(x, p=1.0, dim=0),
                          lambda x: x / np.abs(x).sum(0, keepdims=True), [A]),
    "cosine_similarity": (F.cosine_similarity, lambda x, y: (x * y).sum(1) / (np.linalg.norm(x, axis=1)
                                                                              * np.linalg.norm(y, axis=1)), [A, B]),
    "pairwise_distance": (F.pairwise_distance, lambda x, y: np.linalg.norm(x - y + 1e-6, axis=-1), [A, B]),
}


@pytest.mark.parametrize("name", CASES)
def test_values_and_gradients(device, name):
    op, reference, arrays = CASES[name]
    check_op(op, reference, arrays, device)


def test_huber_is_delta_times_smooth_l1(device):
    x, y = tg.tensor(A, device=device), tg.tensor(B, device=device)
    for delta in (0.3, 1.0, 2.5):
        np.testing.assert_allclose(F.huber_loss(x, y, delta=delta, reduction="sum").item(),
                                   delta * F.smooth_l1_loss(x, y, beta=delta, reduction="sum").item(), rtol=1e-13)
    with pytest.raises(RuntimeError, match="non-positive values for delta"):
        F.huber_loss(x, y, delta=0)


def test_kl_div_of_a_distribution_from_itself_is_zero_and_zero_probabilities_count_nothing(device):
    q = tg.tensor(P, device=device)
    assert abs(F.kl_div(q.log(), q, reduction="batchmean").item()) < 1e-15
    p = np.array([[0.0, 0.25, 0.75]])
    log_q = np.log(np.array([[0.2, 0.3, 0.5]]))
    value = F.kl_div(tg.tensor(log_q, device=device), tg.tensor(p, device=device), reduction="sum").item()
    assert value == pytest.approx(0.25 * np.log(0.25 / 0.3) + 0.75 * np.log(0.75 / 0.5), rel=1e-13)
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        F.kl_div(q.log(), q)
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.kl_div(q.log(), q, reduction="average")


def test_zero_vectors_stay_zero_and_norms_are_clamped(device):
    zero = tg.zeros(2, 3, dtype=tg.float64, device=device)
    assert F.normalize(zero).tolist() == zero.tolist()
    assert F.cosine_similarity(zero, tg.ones(2, 3, dtype=tg.float64, device=device)).tolist() == [0.0, 0.0]
    near = tg.tensor([[1e-13, 0.0]], dtype=tg.float64, device=device)
    assert F.normalize(near).tolist() == [[pytest.approx(0.1), 0.0]]          # 1e-13 / eps


def test_modules_call_their_functions(device):
    x, y = tg.tensor(A, device=device), tg.tensor(B, device=device)
    assert nn.HuberLoss(delta=0.5)(x, y).item() == F.huber_loss(x, y, delta=0.5).item()
    q = tg.tensor(P, device=device)
    assert nn.KLDivLoss(reduction="batchmean")(q.log(), q).item() == F.kl_div(q.log(), q, reduction="batchmean").item()
    np.testing.assert_array_equal(nn.CosineSimilarity(dim=0)(x, y).numpy(), F.cosine_similarity(x, y, 0).numpy())
    np.testing.assert_array_equal(nn.PairwiseDistance(p=1.0, keepdim=True)(x, y).numpy(),
                                  F.pairwise_distance(x, y, 1.0, keepdim=True).numpy())


@pytest.mark.parametrize("name,kwargs", [
    ("huber_loss", {"delta": 0.7}), ("huber_loss", {"reduction": "none"}),
    ("kl_div", {"reduction": "batchmean"}), ("kl_div", {"reduction": "none"}),
    ("kl_div", {"reduction": "sum", "log_target": True}),
    ("normalize", {}), ("normalize", {"p": 3.0, "dim": 0}), ("cosine_similarity", {}),
    ("cosine_similarity", {"dim": 0}), ("pairwise_distance", {}), ("pairwise_distance", {"p": 1.0, "keepdim": True}),
])
def test_the_same_as_torch(name, kwargs):
    torch = pytest.importorskip("torch")
    arrays = {"huber_loss": [A, B], "kl_div": [LOG_Q, np.log(P) if kwargs.get("log_target") else P],
              "normalize": [A], "cosine_similarity": [A, B], "pairwise_distance": [A, B]}[name]
    ours = [tg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y, ty = getattr(F, name)(*ours, **kwargs), getattr(torch.nn.functional, name)(*theirs, **kwargs)
    upstream = np.random.default_rng(1).normal(size=tuple(ty.shape))
    y.backward(tg.tensor(upstream))
    ty.backward(torch.tensor(upstream))
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-15)
    for x, t in zip(ours, theirs):
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-14)
