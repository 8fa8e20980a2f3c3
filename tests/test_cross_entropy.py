"""F.cross_entropy and F.nll_loss (and their modules): every option of PyTorch's, checked
against PyTorch's documented formula written out in NumPy float64, by gradcheck and
gradgradcheck with a random upstream gradient, and against torch itself where it imports.

The reference (torch.nn.CrossEntropyLoss docs): with class weights w, log-probabilities
log p = log_softmax(x) over the class axis 1 and the target as a distribution q_n
(one-hot for a class index, the given row for class probabilities), mixed with the
uniform one by label smoothing eps, q_n <- (1 - eps) q_n + eps / C,

    l_n = -sum_c w_c q_nc log p_nc            (0 where the class index is ignore_index)

"mean" is sum_n l_n / sum_n w_{y_n} over the counted samples for class indices, and
sum_n l_n / (number of samples) for class probabilities.
"""
import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_bn as tg
import tinygrad_bn.functional as F
from tinygrad_bn import nn
from tinygrad_bn.testing import strategies as tst
from opcheck import check_op

REDUCTIONS = ["mean", "sum", "none"]


def np_log_softmax(a, axis):
    return a - np.logaddexp.reduce(a, axis=axis, keepdims=True)


def reference_loss(x, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0,
                   log_probabilities=False):
    """The formula of the module docstring in float64, sample by sample; nll_loss when
    ``x`` already holds log-probabilities."""
    x = np.asarray(x, np.float64)
    if x.ndim == 1:                                   # one sample: a batch of one
        out = reference_loss(x[None], np.asarray(target)[None], weight, ignore_index, reduction,
                             label_smoothing, log_probabilities)
        return out[0] if reduction == "none" else out
    classes = x.shape[1]
    samples = np.moveaxis(x, 1, -1).reshape(-1, classes)
    logp = samples if log_probabilities else np_log_softmax(samples, 1)
    w = np.ones(classes) if weight is None else np.asarray(weight, np.float64)
    probabilities = target.shape == x.shape
    if probabilities:
        q = np.moveaxis(target, 1, -1).reshape(-1, classes).astype(np.float64)
        counted = np.ones(len(q), bool)
    else:
        labels = target.reshape(-1)
        counted = labels != ignore_index
        q = np.zeros_like(logp)
        q[np.flatnonzero(counted), labels[counted]] = 1
    q = np.where(counted[:, None], (1 - label_smoothing) * q + label_smoothing / classes, 0)
    losses = -(w * q * logp).sum(axis=1)
    if reduction == "none":
        return losses.reshape(x.shape[:1] + x.shape[2:])
    if reduction == "sum":
        return losses.sum()
    total = len(losses) if probabilities else w[labels[counted]].sum()
    return losses.sum() / total


@st.composite
def loss_cases(draw, probabilities=True, smoothing=True):
    """(x, target, options): input (C,), (N, C), (N, C, d) or (N, C, d1, d2); class-index
    targets (int64 or uint8) or, where ``probabilities``, class probabilities; class weights
    or none; the default ignore_index or an ignored class; label smoothing where
    ``smoothing``.  At least one sample counts, so the mean is finite."""
    classes = draw(st.integers(1, 4))
    spatial = draw(st.sampled_from([None, (), (3,), (2, 2)]))          # None: one sample (C,)
    batch = () if spatial is None else (draw(st.integers(1, 3)),)
    shape = (classes,) if spatial is None else batch + (classes,) + spatial
    # a ramp over the classes keeps p from being uniform or proportional to the target,
    # where the gradient would be 0
    ramp = np.arange(classes).reshape((classes,) + (1,) * len(spatial or ()))
    x = draw(tst.arrays(shape)) + ramp
    options = {}
    if probabilities and draw(st.booleans()):
        target = draw(tst.arrays(shape, low=0.05, high=1.0))          # not all 0: the loss would be 0
    else:
        dtype = draw(st.sampled_from([np.int64, np.uint8]))
        target = draw(hnp.arrays(dtype, batch + (spatial or ()), elements=st.integers(0, classes - 1)))
        if classes > 1 and draw(st.booleans()):
            ignored = draw(st.integers(0, classes - 1))
            if (target == ignored).all():
                target.flat[0] = (ignored + 1) % classes
            options["ignore_index"] = ignored
    if draw(st.booleans()):
        options["weight"] = draw(tst.arrays((classes,), low=0.2, high=2.0))
    if smoothing and draw(st.booleans()):
        options["label_smoothing"] = draw(st.floats(0.0, 1.0))
    return x, target, options


def call(loss, x, target, options, device, reduction):
    """``loss`` (F.cross_entropy or F.nll_loss) on Tensors made from the case."""
    options = dict(options, reduction=reduction)
    if "weight" in options:
        options["weight"] = tg.tensor(options["weight"], device=device)
    return loss(x, target if isinstance(target, tg.Tensor) else tg.tensor(target, device=device), **options)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(case=loss_cases())
def test_cross_entropy_value_gradient_and_second_derivative(device, reduction, case):
    x, target, options = case
    constant = x.shape[1 if x.ndim > 1 else 0] == 1        # one class: log p = 0, the loss is 0
    check_op(lambda z: call(F.cross_entropy, z, target, options, device, reduction),
             lambda z: reference_loss(z, target, reduction=reduction, **options), [x], device,
             allow_zero=constant)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(case=loss_cases(probabilities=False, smoothing=False))
def test_nll_loss_value_gradient_and_second_derivative(device, reduction, case):
    x, target, options = case
    check_op(lambda z: call(F.nll_loss, z, target, options, device, reduction),
             lambda z: reference_loss(z, target, reduction=reduction, log_probabilities=True, **options),
             [x], device)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(case=loss_cases(), data=st.data())
def test_gradient_with_respect_to_class_probabilities(device, reduction, case, data):
    """torch differentiates cross_entropy in probability targets too: dL/dq_nc = -g_n (1 - eps) w_c log p_nc."""
    x, _, options = case
    options.pop("ignore_index", None)
    target = data.draw(tst.arrays(x.shape, low=0.05, high=1.0))
    constant = x.shape[1 if x.ndim > 1 else 0] == 1
    check_op(lambda z, q: call(F.cross_entropy, z, q, options, device, reduction),
             lambda z, q: reference_loss(z, q, reduction=reduction, **options), [x, target], device,
             allow_zero=constant)


@given(case=loss_cases(), seed=st.integers(0, 2 ** 32 - 1))
def test_matches_torch(device, case, seed):
    torch = pytest.importorskip("torch")
    x, target, options = case
    rng = np.random.default_rng(seed)
    for reduction in REDUCTIONS:
        z = tg.tensor(x, requires_grad=True, device=device)
        ours = call(F.cross_entropy, z, target, options, device, reduction)
        upstream = rng.standard_normal(ours.shape)
        ours.backward(tg.tensor(upstream, device=device))
        zt = torch.tensor(x, requires_grad=True)
        labels = target if target.dtype.kind == "f" else target.astype(np.int64)   # torch takes uint8 in 2-D only
        theirs = torch.nn.functional.cross_entropy(
            zt, torch.tensor(labels), reduction=reduction,
            **{k: torch.tensor(v) if k == "weight" else v for k, v in options.items()})
        theirs.backward(torch.tensor(upstream))
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(z.grad.numpy(), zt.grad.numpy(), rtol=1e-10, atol=1e-12)


@st.composite
def logits_and_labels(draw, low=-50.0, high=50.0):
    n, c = draw(st.integers(1, 6)), draw(st.integers(1, 5))
    return draw(tst.arrays((n, c), low=low, high=high)), draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)))


@given(case=logits_and_labels())
def test_gradient_is_softmax_minus_onehot_over_n(device, case):
    z, t = case
    logits = tg.tensor(z, requires_grad=True, device=device)
    F.cross_entropy(logits, tg.tensor(t, device=device)).backward()
    softmax = np.exp(np_log_softmax(z, 1))
    rows = np.arange(len(t))
    # (softmax - onehot) / N, with the target entry written as p_t - 1 = -sum_{j != t} p_j,
    # which does not cancel when p_t ~ 1; the library computes p_t - 1 directly, good to
    # a few ulps of 1.0, hence the absolute tolerance
    others = softmax.copy()
    others[rows, t] = 0
    expected = softmax.copy()
    expected[rows, t] = -others.sum(axis=1)
    np.testing.assert_allclose(logits.grad.numpy(), expected / len(t), rtol=1e-10,
                               atol=4 * np.finfo(np.float64).eps / len(t))


@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
def test_finite_for_huge_logits(device, dtype):
    logits = tg.tensor([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4]], dtype=dtype, requires_grad=True, device=device)
    loss = F.cross_entropy(logits, tg.tensor([2, 0], device=device))
    loss.backward()
    # by hand: row 0 loses 1e4 - (-1e4) = 2e4; row 1 loses 1e4 + log 2
    np.testing.assert_allclose(loss.item(), (2e4 + 1e4 + np.log(2)) / 2, rtol=1e-6)
    np.testing.assert_allclose(logits.grad.numpy(), [[0.5, 0, -0.5], [-0.5, 0.25, 0.25]], atol=1e-6)


def test_minus_infinity_logit_of_another_class_gives_a_finite_loss(device):
    """A masked class (logit -inf) has p = 0: the loss of a sample of another class stays finite
    (as in torch), and so does the loss of an ignored sample (it is 0)."""
    logits = tg.tensor([[0.0, -np.inf, 0.0], [-np.inf, 1.0, 2.0]], dtype=tg.float64, device=device)
    losses = F.cross_entropy(logits, tg.tensor([0, -100], device=device), reduction="none")
    np.testing.assert_array_equal(losses.numpy(), [np.log(2), 0.0])


def test_keeps_float32(device):
    loss = F.cross_entropy(tg.randn(4, 3, requires_grad=True, device=device), tg.tensor([0, 1, 2, 0], device=device))
    assert loss.dtype == np.float32


@pytest.mark.parametrize("loss", [F.cross_entropy, F.nll_loss])
@pytest.mark.parametrize("shape, target_shape", [((0, 4), (0,)), ((0, 4, 3), (0, 3)), ((2, 4, 0), (2, 0))])
def test_empty_batch(device, loss, shape, target_shape):
    """torch 2.13: with no samples the mean is 0/0 = nan, the sum 0, "none" an empty
    tensor of the target's shape, and backward gives an empty gradient (no error)."""
    x = tg.zeros(shape, dtype=tg.float64, requires_grad=True, device=device)
    target = tg.zeros(target_shape, dtype=tg.int64, device=device)
    mean = loss(x, target)
    assert np.isnan(mean.item())
    mean.backward()
    assert x.grad.shape == shape
    assert loss(x, target, reduction="sum").item() == 0
    assert loss(x, target, reduction="none").shape == target_shape


@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
def test_every_target_ignored(device, label_smoothing):
    """torch 2.13: the mean over no counted sample is nan, and the gradient is 0 (not nan)
    for ignored samples; the sum is 0."""
    x = tg.tensor(np.random.default_rng(0).standard_normal((2, 3)), requires_grad=True, device=device)
    target = tg.tensor([1, 1], device=device)
    loss = F.cross_entropy(x, target, ignore_index=1, label_smoothing=label_smoothing)
    assert np.isnan(loss.item())
    loss.backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((2, 3)))
    assert F.cross_entropy(x, target, ignore_index=1, reduction="sum").item() == 0


def test_one_sample_has_a_0d_target_and_a_0d_loss(device):
    x = np.array([1.0, 2.0, 3.0])
    logits = tg.tensor(x, dtype=tg.float64, device=device)
    loss = F.cross_entropy(logits, tg.tensor(2, device=device), reduction="none")
    assert loss.shape == ()
    np.testing.assert_allclose(loss.item(), -np_log_softmax(x, 0)[2], rtol=1e-14)
    assert np.isnan(F.cross_entropy(logits, tg.tensor(-100, device=device)).item())   # ignored: 0/0


def test_weighted_mean_divides_by_the_weights_of_the_targets(device):
    """By hand: two samples of classes 0 and 1 with weights 1 and 3 and per-sample losses
    l0 = l1 = log 2 (two equal logits): mean = (1 l0 + 3 l1) / (1 + 3) = log 2, not / N."""
    x = tg.zeros(2, 2, dtype=tg.float64, device=device)
    weight = tg.tensor([1.0, 3.0], dtype=tg.float64, device=device)
    target = tg.tensor([0, 1], device=device)
    np.testing.assert_allclose(F.cross_entropy(x, target, weight).item(), np.log(2), rtol=1e-14)
    np.testing.assert_allclose(F.cross_entropy(x, target, weight, reduction="sum").item(), 4 * np.log(2),
                               rtol=1e-14)


@pytest.mark.parametrize("target, message", [
    ([0, 3], r"cross_entropy: target 3 is out of bounds.*\[0, 3\).*C = 3"),
    ([-1, 0], r"cross_entropy: target -1 is out of bounds.*C = 3"),
])
def test_out_of_range_labels_name_the_label_and_the_range(device, target, message):
    """On the CPU at once; on the GPU, where the check waits for nothing, at the next read
    of a result back to the host."""
    with pytest.raises(IndexError, match=message):
        F.cross_entropy(tg.zeros(2, 3, device=device), tg.tensor(target, device=device)).item()
    assert F.cross_entropy(tg.zeros(2, 3, device=device), tg.tensor([0, 2], device=device)).item() > 0


def test_ignore_index_may_lie_outside_the_classes(device):
    # torch 2.13: F.cross_entropy(torch.zeros(2, 3), torch.tensor([0, 5]), ignore_index=5) = log 3
    loss = F.cross_entropy(tg.zeros(2, 3, dtype=tg.float64, device=device), tg.tensor([0, 5], device=device),
                           ignore_index=5)
    np.testing.assert_allclose(loss.item(), np.log(3), rtol=1e-14)
    with pytest.raises(IndexError, match="nll_loss: target 7 is out of bounds"):
        F.nll_loss(tg.zeros(2, 3, device=device), tg.tensor([7, 5], device=device), ignore_index=5).item()


@pytest.mark.parametrize("call, error, message", [
    (lambda d: F.cross_entropy(tg.zeros(2, 3, device=d), tg.tensor([0.0, 1.0], device=d)), RuntimeError,
     "class indices of dtype int64 or uint8, got float32"),
    (lambda d: F.cross_entropy(tg.zeros(2, 3, device=d), tg.tensor([0, 1], dtype=tg.int32, device=d)),
     RuntimeError, "int64 or uint8, got int32"),
    (lambda d: F.cross_entropy(tg.zeros(2, 3, device=d), tg.tensor([[0, 1, 0], [1, 0, 0]], device=d)),
     RuntimeError, r"class probabilities and must be floating point, got int64"),
    (lambda d: F.nll_loss(tg.zeros(2, 3, device=d), tg.zeros(2, 3, device=d)), RuntimeError,
     "nll_loss: target must hold class indices"),
    (lambda d: F.cross_entropy(tg.zeros(2, 3, dtype=tg.int64, device=d), tg.tensor([0, 1], device=d)),
     RuntimeError, "input must be floating point, got int64"),
    (lambda d: F.cross_entropy(tg.zeros(2, 3, device=d), tg.tensor([0, 1, 2], device=d)), ValueError,
     r"target of shape \(3,\) does not match input of shape \(2, 3\): expected \(2,\)"),
    (lambda d: F.cross_entropy(tg.zeros(2, 3, 4, device=d), tg.tensor([[0, 1, 2, 0, 0]] * 2, device=d)),
     ValueError, r"expected \(2, 4\)"),
    (lambda d: F.cross_entropy(tg.zeros(2, 3, device=d), tg.tensor([0, 1], device=d), tg.ones(4, device=d)),
     ValueError, r"weight of shape \(4,\) does not match the 3 classes.*expected \(3,\)"),
    (lambda d: F.cross_entropy(tg.zeros(2, 3, device=d), tg.tensor([0, 1], device=d),
                               tg.ones(3, dtype=tg.float64, device=d)), RuntimeError,
     "input and weight must have the same dtype, but got float32 and float64"),
    (lambda d: F.cross_entropy(tg.zeros(2, 3, device=d), tg.tensor([0, 1], device=d),
                               tg.ones(3, requires_grad=True, device=d)), RuntimeError, "weights get no gradient"),
    (lambda d: F.cross_entropy(tg.zeros(2, 3, device=d), tg.tensor([0, 1], device=d), label_smoothing=1.5),
     ValueError, "label_smoothing must be between 0.0 and 1.0, got 1.5"),
    (lambda d: F.cross_entropy(tg.zeros(2, 3, device=d), tg.zeros(2, 3, device=d), ignore_index=0), ValueError,
     "ignore_index is for class-index targets"),
    (lambda d: F.cross_entropy(tg.zeros(2, 3, device=d), tg.tensor([0, 1], device=d), reduction="avg"),
     ValueError, "reduction must be one of"),
    (lambda d: F.cross_entropy(tg.tensor(1.0, device=d), tg.tensor(0, device=d)), ValueError,
     r"input must have shape \(C,\), \(N, C\) or \(N, C, d1, ...\), got \(\)"),
])
def test_errors_name_what_was_wrong(device, call, error, message):
    with pytest.raises(error, match=message):
        call(device)


def test_reduction_is_keyword_only_as_the_third_argument_is_the_weight(device):
    """torch's third positional argument is ``weight``: a reduction there is not a Tensor."""
    with pytest.raises(TypeError, match=r"cross_entropy\(\): argument 'weight' \(position 3\) must be Tensor, not str"):
        F.cross_entropy(tg.zeros(2, 3, device=device), tg.tensor([0, 1], device=device), "sum")


# ------------------------------------------------------------------- modules
@pytest.mark.parametrize("module, function", [(nn.CrossEntropyLoss, F.cross_entropy), (nn.NLLLoss, F.nll_loss)])
def test_loss_modules_call_their_function(device, module, function):
    rng = np.random.default_rng(1)
    x = tg.tensor(rng.standard_normal((4, 3, 2)), device=device)
    target = tg.tensor(rng.integers(0, 3, (4, 2)), device=device)
    weight = tg.tensor(rng.uniform(0.5, 2, 3), device=device)
    layer = module(weight, ignore_index=2, reduction="sum")
    assert (layer.ignore_index, layer.reduction) == (2, "sum")
    np.testing.assert_array_equal(layer(x, target).numpy(),
                                  function(x, target, weight, ignore_index=2, reduction="sum").numpy())


def test_loss_module_defaults_buffers_and_repr_as_torch():
    # torch 2.13: CrossEntropyLoss() has reduction 'mean', ignore_index -100, label_smoothing 0.0,
    # repr "CrossEntropyLoss()", and its weight is a buffer: in the state dict when given
    loss = nn.CrossEntropyLoss()
    assert (loss.reduction, loss.ignore_index, loss.label_smoothing, loss.weight) == ("mean", -100, 0.0, None)
    assert repr(loss) == "CrossEntropyLoss()" and repr(nn.NLLLoss()) == "NLLLoss()"
    assert list(loss.state_dict()) == []
    weighted = nn.CrossEntropyLoss(weight=tg.ones(3), label_smoothing=0.1)
    assert list(weighted.state_dict()) == ["weight"] and weighted.label_smoothing == 0.1
    assert weighted.double().weight.dtype == np.float64          # moves and casts with the module
    assert nn.MSELoss().reduction == "mean" and repr(nn.MSELoss()) == "MSELoss()"


def test_mse_loss_module(device):
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    out = nn.MSELoss(reduction="sum")(tg.tensor(a, device=device), tg.tensor(b, device=device))
    np.testing.assert_allclose(out.item(), ((a - b) ** 2).sum(), rtol=1e-14)
