"""The properties Batch Normalization must have, shared by the test suite and the exercise checks.

Each ``check_*`` function takes the implementation under test and one input
(a Case from bn_cases, and a seed for the random directions it needs),
returns None when the property holds and raises PropertyFailure when it does
not.  A training-mode implementation is called as ``batch_norm(x, weight,
bias, eps=...)``, weight and bias None without affine, like the library's
``batch_norm_composed`` (nn/batchnorm_reference.py), ``fused`` below, and a
layer run as such a function, ``through_layer(nn.BatchNorm2d)``.  The cases
may be (N, C), (N, C, L) or (N, C, H, W): every property holds per channel
whatever the axes a channel's values lie along.

    check_output_statistics      mean(y) = beta, var(y) = gamma^2 s2/(s2 + eps), per channel
    check_gradient_identities    sum dx = 0 and (eps = 0) sum dx x_hat = 0, per channel;
                                 dgamma = sum dy x_hat, dbeta = sum dy
    check_scale_invariance       BN(z(aW)) = BN(z(W)) and dL/d(aW) = dL/dW / a   (paper, section 3.3),
                                 z a fully connected layer, or a convolution on (N, C, H, W)
    check_shift_invariance       BN(x + b) = BN(x), gradients included
    check_same_as                output, first (and second) derivatives equal a reference's
    check_gradcheck              first derivatives against central differences (tg.gradcheck)
    check_gradgradcheck          second derivatives likewise (tg.gradgradcheck)
    check_population_statistics  recompute_population_stats is Algorithm 2, computed in NumPy
                                 (on a fully connected model, or a convolutional one)

x_hat and s2 come from NumPy (bn_cases), never from the code under test.
The running-statistics rules, a sequence of steps rather than one input,
are a state machine of their own: bn_running_stats.py.
"""
import numpy as np
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view

from .. import functional as F
from .. import nn
from ..autograd import grad, no_grad
from ..backend import get_default_device
from ..creation import tensor
from ..gradcheck import GradcheckError, gradcheck, gradgradcheck
from ..ops.batch_norm import BatchNorm
from ..tensor import Tensor, float32, float64
from .bn_cases import channel_shape, numpy_affine, numpy_normalize, reduction_axes

TOLERANCE = {float64: 1e-9, float32: 2e-4}
INPUTS = ("x", "weight", "bias")
GRADIENTS = ("dx", "dweight", "dbias")

# What the properties are drawn with, in the suite and in the exercise checks alike
seeds = st.integers(0, 2 ** 32 - 1)
scales = st.floats(0.05, 20)
GRADCHECK_ELEMENTS = 60        # central differences cost two forward passes per element
GRADGRADCHECK_ELEMENTS = 24
SCALE_INVARIANCE_ELEMENTS = 64 * 16


class PropertyFailure(AssertionError):
    """A property that does not hold.  The message says what should hold, for
    which input, and what came out.  ``quantity`` names the value that broke it
    ("output", "dx", "dweight", "dbias", "second derivatives", "running_var", ...)
    so that a report can say where to look; ``case`` is the input when it is a Case."""

    def __init__(self, message, quantity, case=None):
        super().__init__(message)
        self.quantity, self.case = quantity, case


def _input_text(case, context):
    return ", ".join(part for part in (case.describe() if case is not None else None, context) if part)


def fail(should, found, quantity, case=None, context=None):
    """Raise PropertyFailure: '<should>; for <the input>, <found>'."""
    raise PropertyFailure(f"{should}; for {_input_text(case, context)}, {found}", quantity, case)


def assert_close(got, expected, *, rtol, atol, should, what, quantity, case=None, context=None,
                 per_channel=False, unit="channel"):
    """Fail unless |got - expected| <= atol + rtol |expected| everywhere (the rule of
    np.testing.assert_allclose), naming the worst element of ``what``:
    '... the output at element (2, 0) is 0.13, expected -0.41 (...)', or with
    ``per_channel`` (got indexed by channel, or by another ``unit``) '... channel 1
    has mean 0.25, expected 0'."""
    got = np.asarray(got, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if expected.ndim and expected.shape != got.shape:
        fail(should, f"{what} has shape {tuple(got.shape)}, expected {tuple(expected.shape)}", quantity, case, context)
    expected = np.broadcast_to(expected, got.shape)
    allowed = atol + rtol * np.abs(expected)
    excess = np.abs(got - expected) - allowed
    excess[np.isnan(excess)] = np.inf
    if not (excess > 0).any():
        return
    j = np.unravel_index(np.argmax(excess), got.shape)
    place = f"{unit} {j[0]} has {what}" if per_channel else f"{what} at element {tuple(int(i) for i in j)} is"
    count = f"; {int((excess > 0).sum())} of {got.size} differ" if got.size > 1 else ""
    fail(should, f"{place} {got[j]:.6g}, expected {expected[j]:.6g} (off by {abs(got[j] - expected[j]):.2g}, "
                 f"allowed {allowed[j]:.2g}{count})", quantity, case, context)


def fused(x, weight=None, bias=None, eps=1e-5):
    """The library's fused op in training mode, without running statistics,
    called like batch_norm_composed.  For eps = 0, which ``F.batch_norm`` refuses
    in training as PyTorch does, the op itself (the identities that are exact only
    without eps need it)."""
    if eps > 0:
        return F.batch_norm(x, None, None, weight, bias, training=True, eps=eps)
    return BatchNorm.apply(x, weight, bias, None, None, 0.0, eps)


def through_layer(layer):
    """``layer`` (nn.BatchNorm1d, nn.BatchNorm2d, or a class of your own taking their
    arguments) in training mode, called like batch_norm_composed: each call builds
    the layer for x's channels, dtype and device, with the given weight and bias
    as its parameters (so the gradients a property asks for are the layer's own),
    and returns layer(x).  Like PyTorch's layers, it refuses eps = 0 in training."""
    def batch_norm(x, weight=None, bias=None, eps=1e-5):
        bn = layer(x.shape[1], eps=eps, affine=weight is not None, device=x.device, dtype=x.dtype)
        if weight is not None:
            bn._parameters.update(weight=weight, bias=bias)
        return bn(x)
    batch_norm.__qualname__ = f"through_layer({layer.__name__})"
    return batch_norm


def differentiable_inputs(case, dtype=float64, device=None):
    """[x] without affine, [x, weight, bias] with it: the case's tensors, requiring grad."""
    return [t for t in case.tensors(dtype=dtype, device=device) if t is not None]


def of_inputs(batch_norm, case, **kwargs):
    """``batch_norm`` as a function of exactly the tensors differentiable_inputs(case) gives."""
    if case.weight is None:
        return lambda x: batch_norm(x, None, None, **kwargs)
    return lambda x, weight, bias: batch_norm(x, weight, bias, **kwargs)


def two_values_without_affine(case):
    """m = 2 values per channel (per group, for the other normalizations) and no affine:
    x_hat is +-1 whatever x is (up to eps), so every derivative is ~0 and gradcheck
    must be told that is expected."""
    return case.weight is None and case.group_size == 2


def output_of(batch_norm, inputs, case, dtype=float64, **kwargs):
    """``batch_norm`` on the inputs, failing unless it gives a Tensor of x's shape and dtype."""
    y = of_inputs(batch_norm, case, **kwargs)(*inputs)
    should = f"the output should be a {np.dtype(dtype).name} Tensor of the input's shape {tuple(case.x.shape)}"
    if not isinstance(y, Tensor):
        fail(should, f"it is a {type(y).__name__}", "output", case)
    if y.shape != case.x.shape or y.dtype != dtype:
        fail(should, f"it is {np.dtype(y.dtype).name} of shape {tuple(y.shape)}", "output", case)
    return y


def gradients_of(y, inputs, upstream, case, names=GRADIENTS, create_graph=False, context=None):
    """The gradients of y for ``upstream`` (a NumPy array), failing where one is missing."""
    if not y.requires_grad:
        fail("the output should be differentiable in the inputs",
             "it does not require grad: it was computed outside autograd (arrays, .data, .detach() or no_grad)",
             "output", case, context)
    grads = grad(y, inputs, tensor(upstream, dtype=y.dtype, device=y.device), create_graph=create_graph,
                 allow_unused=True)
    for name, g in zip(names, grads):
        if g is None:
            fail("every input should receive a gradient", f"{name} is None", name, case, context)
    return grads


def forward_backward(batch_norm, case, dy, dtype=float64, device=None, eps=1e-5):
    """(y, [dx, dweight, dbias]) as NumPy arrays, for upstream gradient dy."""
    inputs = differentiable_inputs(case, dtype, device)
    y = output_of(batch_norm, inputs, case, dtype, eps=eps)
    return y.detach().numpy(), [g.numpy() for g in gradients_of(y, inputs, dy, case)]


def _gammas(case):
    return 1.0 if case.weight is None else case.weight.reshape(channel_shape(case.x))


def check_output_statistics(batch_norm, case, dtype=float64, device=None):
    """Each output channel has mean beta and variance gamma^2 s2/(s2 + eps), s2 the
    channel's biased batch variance (gamma = 1, beta = 0 without affine)."""
    inputs = differentiable_inputs(case, dtype, device)
    y = output_of(batch_norm, inputs, case, dtype).detach().numpy()
    axes = reduction_axes(case.x)
    s2 = numpy_normalize(case.x)[1].reshape(-1)
    beta = np.zeros(case.channels) if case.bias is None else case.bias
    gamma = np.ones(case.channels) if case.weight is None else case.weight
    tol = TOLERANCE[dtype] * 10
    assert_close(y.mean(axis=axes), beta, rtol=1e-7, atol=tol, what="mean", quantity="output", case=case,
                 should="each output channel should have mean beta (0 without affine)", per_channel=True)
    assert_close(y.var(axis=axes), gamma ** 2 * s2 / (s2 + 1e-5), rtol=tol, atol=tol, what="variance",
                 quantity="output", case=case, per_channel=True,
                 should="each output channel should have variance gamma^2 s2/(s2 + eps), s2 the "
                        "channel's biased batch variance (gamma = 1 without affine)")


def check_gradient_identities(batch_norm, case, seed, dtype=float64, device=None):
    """For a random upstream gradient dy, per channel: sum dx = 0, and for eps = 0
    sum dx x_hat = 0 (with eps, mean(x_hat^2) = s2/(s2 + eps) < 1 and it is not
    exact); dgamma = sum dy x_hat and dbeta = sum dy."""
    dy = np.random.default_rng(seed).standard_normal(case.x.shape)
    axes = reduction_axes(case.x)
    x_hat, s2 = numpy_normalize(case.x)
    gamma = 1.0 if case.weight is None else np.abs(case.weight)
    # the size of the terms that cancel: |gamma| / sigma * sum |dy| per channel
    tol = TOLERANCE[dtype] * (gamma / np.sqrt(s2.reshape(-1)) * np.abs(dy).sum(axis=axes)).max()
    where = dict(case=case, context=f"upstream gradient from seed {seed}", per_channel=True)
    _, (dx_exact, *_) = forward_backward(batch_norm, case, dy, dtype, device, eps=0.0)
    assert_close(dx_exact.sum(axis=axes), 0, rtol=0, atol=tol, what="sum", quantity="dx", **where,
                 should="with eps = 0, dx should sum to 0 over each channel "
                        "(shifting all of a channel's inputs changes nothing)")
    assert_close((dx_exact * numpy_normalize(case.x, eps=0.0)[0]).sum(axis=axes), 0, rtol=0, atol=tol,
                 what="sum of dx * x_hat", quantity="dx", **where,
                 should="with eps = 0, dx should be orthogonal to x_hat in each channel "
                        "(scaling all of a channel's inputs changes nothing)")
    _, grads = forward_backward(batch_norm, case, dy, dtype, device)
    assert_close(grads[0].sum(axis=axes), 0, rtol=0, atol=tol, what="sum", quantity="dx", **where,
                 should="dx should sum to 0 over each channel")
    if case.weight is not None:
        scale = TOLERANCE[dtype] * np.abs(dy).sum()
        assert_close(grads[1], (dy * x_hat).sum(axis=axes), rtol=TOLERANCE[dtype], atol=scale, what="dgamma",
                     quantity="dweight", should="dgamma should be sum(dy * x_hat) over each channel", **where)
        assert_close(grads[2], dy.sum(axis=axes), rtol=TOLERANCE[dtype], atol=scale, what="dbeta",
                     quantity="dbias", should="dbeta should be sum(dy) over each channel", **where)


def _layer_before(case, rng):
    """(u, W, z, (names of z(u, aW) and z(u, W), a description)): the layer z(u, W) whose
    output BN normalises in the scale-invariance check.  For (N, C) and (N, C, L) cases a
    fully connected one, z(u, W) = u W^T with u the first C columns; for (N, C, H, W)
    cases a 3x3 convolution with C filters, z(u, W) = conv2d(u, W, padding=1), which
    keeps u's shape.  W is random, its identity part (the centre tap of the kernel)
    raised by 2 to keep it well conditioned."""
    if case.x.ndim == 4:
        u, c = case.x, case.channels
        w = rng.standard_normal((c, c, 3, 3))
        w[:, :, 1, 1] += 2 * np.eye(c)
        return u, w, lambda u, weight: F.conv2d(u, weight, padding=1), \
            ("conv2d(u, aW)", "conv2d(u, W)", "z = conv2d(u, aW) with W a 3x3 kernel, padding 1")
    u = case.x if case.x.ndim == 2 else case.x[:, :, 0]
    w = rng.standard_normal((u.shape[1], u.shape[1])) + 2 * np.eye(u.shape[1])
    return u, w, lambda u, weight: u @ weight.T, \
        ("u (aW)^T", "u W^T", f"z = u (aW)^T with u its first {u.shape[1]} columns")


def check_scale_invariance(batch_norm, case, scale, seed, dtype=float64, device=None):
    """Section 3.3: for the layer z(u, W) before BN (fully connected, or a convolution
    on (N, C, H, W) cases: _layer_before), BN(z(u, aW)) = BN(z(u, W)) and
    dL/d(aW) = (1/a) dL/dW (exact with eps = 0, which the guaranteed spread makes safe)."""
    rng = np.random.default_rng(seed)
    u, w, layer, (scaled, plain, described) = _layer_before(case, rng)
    dy = rng.standard_normal(u.shape)
    results = []
    for a in (1.0, scale):
        weight = tensor(a * w, dtype=dtype, device=device, requires_grad=True)
        z = layer(tensor(u, dtype=dtype, device=device), weight)
        values = np.asarray(z.detach().numpy(), dtype=np.float64)
        axes = reduction_axes(values)
        if np.any(values.std(axis=axes) < 1e-2 * np.abs(values).max(axis=axes)):
            return                  # a channel of z is nearly constant: centring it cancels
                                    # most digits (in float32 all of them), so no identity is exact
        y = batch_norm(z, None, None, eps=0.0)
        context = f"{described}, a = {scale:.4g} (seed {seed})"
        (dweight,) = gradients_of(y, [weight], dy, case, names=("dL/dW",), context=context)
        results.append((y.detach().numpy(), dweight.numpy() * a))
    (y1, g1), (ya, ga) = results
    tol = TOLERANCE[dtype] * 100
    where = dict(case=case, context=context)
    assert_close(ya, y1, rtol=1e-7, atol=tol, what=f"BN({scaled})", quantity="output", **where,
                 should=f"BN should be scale invariant (section 3.3): BN({scaled}) should equal BN({plain})")
    assert_close(ga, g1, rtol=1e-7, atol=tol * (np.abs(g1).max() + 1), what="a dL/d(aW)", quantity="dx", **where,
                 should="the gradient for aW should be 1/a times the gradient for W (section 3.3)")


def check_shift_invariance(batch_norm, case, seed, dtype=float64, device=None):
    """BN(x + b) = BN(x) for a per-channel shift b, and so are its gradients."""
    rng = np.random.default_rng(seed)
    shift = rng.uniform(-10, 10, case.channels).reshape(channel_shape(case.x))
    dy = rng.standard_normal(case.x.shape)
    y, grads = forward_backward(batch_norm, case, dy, dtype, device)
    shifted = type(case)(case.x + shift, case.weight, case.bias)
    y_shifted, grads_shifted = forward_backward(batch_norm, shifted, dy, dtype, device)
    tol = TOLERANCE[dtype] * 100
    where = dict(case=case, context=f"a per-channel shift b from seed {seed}")
    assert_close(y_shifted, y, rtol=1e-7, atol=tol, what="BN(x + b)", quantity="output", **where,
                 should="BN should be shift invariant: BN(x + b) should equal BN(x)")
    for name, g, g_shifted in zip(GRADIENTS, grads, grads_shifted):
        assert_close(g_shifted, g, rtol=1e-7, atol=tol * (np.abs(g).max() + 1), what=f"{name} at x + b",
                     quantity=name, should=f"{name} at x + b should equal {name} at x", **where)


def check_same_as(batch_norm, reference, case, seed, order=2, rtol=1e-9, atol=1e-11,
                  reference_name="the reference", device=None):
    """The output, the gradients for a random upstream gradient dy and (``order``
    2) the second derivatives, the gradients of <dx, v> for a random v, equal
    those of ``reference`` (float64, both on ``device``)."""
    rng = np.random.default_rng(seed)
    dy, v = rng.standard_normal(case.x.shape), rng.standard_normal(case.x.shape)
    context = f"dy and v from seed {seed}"
    expected_inputs = differentiable_inputs(case, device=device)
    expected_y = of_inputs(reference, case)(*expected_inputs)
    expected = grad(expected_y, expected_inputs, tensor(dy, device=device), create_graph=order == 2)
    inputs = differentiable_inputs(case, device=device)
    y = output_of(batch_norm, inputs, case)
    where = dict(rtol=rtol, atol=atol, case=case, context=context)
    assert_close(y.detach().numpy(), expected_y.detach().numpy(), what="the output", quantity="output",
                 should=f"the output should equal {reference_name}'s", **where)
    grads = gradients_of(y, inputs, dy, case, create_graph=order == 2, context=context)
    for name, g, e in zip(GRADIENTS, grads, expected):
        assert_close(g.detach().numpy(), e.detach().numpy(), what=name, quantity=name, **where,
                     should=f"the gradients for a random upstream gradient dy should equal {reference_name}'s")
    if order == 1:
        return
    if not grads[0].requires_grad:
        fail("the second derivatives should exist: with create_graph=True, dx should itself be "
             "differentiable", "dx does not require grad: the backward pass computed it outside autograd "
             "(arrays, .data, Tensor.wrap)", "second derivatives", case, context)
    second = grad((grads[0] * tensor(v, device=device)).sum(), inputs, allow_unused=True)
    expected_second = grad((expected[0] * tensor(v, device=device)).sum(), expected_inputs, allow_unused=True)
    for name, s, e in zip(INPUTS, second, expected_second):
        should = f"the second derivatives d<dx, v>/d{name} should equal {reference_name}'s"
        if (s is None) != (e is None):
            fail(should, f"d<dx, v>/d{name} is {'None' if s is None else 'a Tensor'}, "
                         f"{reference_name}'s is {'None' if e is None else 'a Tensor'}",
                 "second derivatives", case, context)
        if s is not None:
            assert_close(s.detach().numpy(), e.detach().numpy(), what=f"d<dx, v>/d{name}",
                         quantity="second derivatives", should=should, **where)


def check_float32_matches_float64(batch_norm, reference, case, seed, device=None):
    """In float32 on ``device``, the output and the gradients for a random upstream
    gradient dy stay float32 on that device and equal ``reference``'s in float64 to
    1e-4, relative and of the largest value plus one (float32 keeps about 7 digits)."""
    device = device or get_default_device()
    dy = np.random.default_rng(seed).standard_normal(case.x.shape)
    context = f"dy from seed {seed}"
    results = {}
    for dtype, fn in ((float32, batch_norm), (float64, reference)):
        inputs = differentiable_inputs(case, dtype, device)
        y = of_inputs(fn, case)(*inputs)
        results[dtype] = [y] + list(grad(y, inputs, tensor(dy, dtype=dtype, device=device)))
    names = ("output",) + GRADIENTS[:len(results[float32]) - 1]
    for name, single, double in zip(names, results[float32], results[float64]):
        if single.dtype != float32 or single.device != device:
            fail("a float32 computation should stay float32 on its device",
                 f"the {name} is {single.dtype} on {single.device}", name, case, context)
        expected = double.detach().numpy()
        assert_close(single.detach().numpy(), expected, rtol=1e-4, atol=1e-4 * (np.abs(expected).max() + 1),
                     what=f"the {name}", quantity=name, case=case, context=context,
                     should="in float32 the output and gradients should equal the float64 reference's")


def _restate(error, case, names, should, quantities):
    """A GradcheckError in the words of a property (names: one per gradchecked input)."""
    if error.input_index is None:
        fail(should, str(error), quantities[0], case)
    k = error.input_index
    fail(should, f"at element {error.element} of {names[k]} autograd gives {error.analytic:.6g}, central "
                 f"differences {error.numerical:.6g} ({error.differing} elements differ)", quantities[k], case)


def check_gradcheck(batch_norm, case, device=None):
    """tg.gradcheck with respect to every input of the case: autograd's gradients
    equal central differences (float64, a random upstream gradient)."""
    try:
        gradcheck(of_inputs(batch_norm, case), differentiable_inputs(case, device=device),
                  allow_zero=two_values_without_affine(case))
    except GradcheckError as error:
        _restate(error, case, INPUTS, "the gradients should equal the numerical ones (gradcheck)", GRADIENTS)


def check_gradgradcheck(batch_norm, case, device=None):
    """tg.gradgradcheck: the backward pass, u^T dy/d(x, weight, bias) as a function of
    the inputs and of u, differentiated by autograd, equals central differences."""
    try:
        gradgradcheck(of_inputs(batch_norm, case), differentiable_inputs(case, device=device),
                      allow_zero=two_values_without_affine(case))
    except GradcheckError as error:
        names = INPUTS[:len(differentiable_inputs(case))] + ("the upstream gradient u",)
        _restate(error, case, names, "the second derivatives should equal the numerical ones (gradgradcheck: the "
                 "backward pass, differentiated)", ["second derivatives"] * len(names))


POPULATION_MODEL = "Linear(5, 4) -> BatchNorm1d(4) -> Sigmoid -> Linear(4, 3) -> BatchNorm1d(3, momentum=0.3)"
POPULATION_MODEL_CONV = ("Conv2d(2, 4, 3, padding=1) -> BatchNorm2d(4) -> Sigmoid -> Flatten -> Linear(36, 3) "
                         "-> BatchNorm1d(3, momentum=0.3)")


def population_model(conv=False):
    """(model, where its two BN layers sit, the shape of one input): POPULATION_MODEL
    on (5,) inputs, or with ``conv`` POPULATION_MODEL_CONV on (2, 3, 3) images, in float64."""
    if conv:
        layers = (nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.Sigmoid(), nn.Flatten(), nn.Linear(36, 3),
                  nn.BatchNorm1d(3, momentum=0.3))
        return nn.Sequential(*layers).double(), (1, 5), (2, 3, 3)
    layers = (nn.Linear(5, 4), nn.BatchNorm1d(4), nn.Sigmoid(), nn.Linear(4, 3), nn.BatchNorm1d(3, momentum=0.3))
    return nn.Sequential(*layers).double(), (1, 4), (5,)


def population_cases():
    """Keyword arguments of check_population_statistics: the seed, the number and
    size of the batches, and the mode the model is in before."""
    return st.fixed_dictionaries({"seed": seeds, "batches": st.integers(1, 5),
                                  "batch_size": st.integers(2, 8), "training": st.booleans()})


def numpy_conv2d(x, w, b, padding):
    """conv2d (stride 1) written out: y[n, o, i, j] = b[o] + sum_{c, r, s} w[o, c, r, s] x_pad[n, c, i + r, j + s]."""
    k = w.shape[2]
    padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    windows = sliding_window_view(padded, (k, k), axis=(2, 3))          # (N, C, H_out, W_out, k, k)
    return np.einsum("nchwij,ocij->nohw", windows, w) + b.reshape(1, -1, 1, 1)


def numpy_population_stats(parameters, inputs, conv=False):
    """Algorithm 2 by hand for population_model(conv), from its parameters (NumPy
    arrays, in the order model.parameters() gives them) and the batches: for each BN
    layer, the average of the batch means of its input and m/(m-1) times the average
    of the biased batch variances (m values per channel: N, or N * H * W after the
    convolution), the network running with batch statistics."""
    w1, b1, gamma1, beta1, w2, b2, gamma2, beta2 = parameters
    means, variances, values_per_channel = [[], []], [[], []], [0, 0]

    def batch_norm(z, k, gamma, beta):
        axes = reduction_axes(z)
        means[k].append(z.mean(axis=axes))
        variances[k].append(z.var(axis=axes))
        values_per_channel[k] = z.size // z.shape[1]
        return numpy_affine(numpy_normalize(z)[0], gamma, beta)

    for x in inputs:
        z = numpy_conv2d(x, w1, b1, padding=1) if conv else x @ w1.T + b1
        h = 1 / (1 + np.exp(-batch_norm(z, 0, gamma1, beta1)))
        batch_norm(h.reshape(len(h), -1) @ w2.T + b2, 1, gamma2, beta2)
    return [(np.mean(means[k], axis=0), m / (m - 1) * np.mean(variances[k], axis=0))
            for k, m in enumerate(values_per_channel)]


def check_population_statistics(recompute, seed, batches=4, batch_size=6, training=False, conv=False):
    """``recompute(model, batches)`` (as nn.recompute_population_stats) sets each
    BN layer of POPULATION_MODEL (with ``conv``: the BatchNorm2d and the
    BatchNorm1d of POPULATION_MODEL_CONV) to Algorithm 2's population statistics
    over the batches (given as (input, target) pairs, as a DataLoader yields them),
    returns the model, and leaves every mode, momentum, num_batches_tracked and
    parameter (with no .grad) as it was."""
    rng = np.random.default_rng(seed)
    model, (first, second), input_shape = population_model(conv)
    for p in model.parameters():
        with no_grad():
            p.copy_(rng.uniform(-1, 1, p.shape))
    model[first](tensor(rng.normal(size=(7, 4) + input_shape[1:])))   # some history that must not leak in
    model.train(training)
    inputs = [rng.normal(1, 2, size=(batch_size,) + input_shape) for _ in range(batches)]
    parameters = [p.detach().numpy().copy() for p in model.parameters()]
    expected = numpy_population_stats(parameters, inputs, conv)
    context = (f"the model {POPULATION_MODEL_CONV if conv else POPULATION_MODEL} in "
               f"{'training' if training else 'eval'} mode and {batches} batch(es) of shape "
               f"{(batch_size,) + input_shape} (seed {seed})")
    returned = recompute(model, [(tensor(x), None) for x in inputs])
    if returned is not model:
        fail("recompute_population_stats should return the model", f"it returned {type(returned).__name__}",
             "return value", context=context)
    for index, (mean, var) in zip((first, second), expected):
        bn = model[index]
        assert_close(bn.running_mean.numpy(), mean, rtol=1e-10, atol=1e-12, what="running_mean",
                     quantity="running_mean", context=f"{context}, layer model[{index}]", per_channel=True,
                     should="running_mean should be E[x], the average over the batches of the batch means "
                            "of the layer's input")
        assert_close(bn.running_var.numpy(), var, rtol=1e-10, atol=0, what="running_var",
                     quantity="running_var", context=f"{context}, layer model[{index}]", per_channel=True,
                     should="running_var should be Var[x], m/(m-1) times the average over the batches of "
                            "the biased batch variances of the layer's input")
    moved = [name for name, module in [("model", model)] + [(f"model[{i}]", m) for i, m in enumerate(model)]
             if module.training != training]
    if moved:
        fail(f"every module should be left in the mode it was in ({'training' if training else 'eval'})",
             f"{moved[0]} is not", "modes", context=context)
    momenta = (model[first].momentum, model[second].momentum)
    if momenta != (0.1, 0.3):
        fail("the momenta should be left as they were, (0.1, 0.3)", f"they are {momenta}", "momentum",
             context=context)
    tracked = (model[first].num_batches_tracked.item(), model[second].num_batches_tracked.item())
    if tracked != (1, 0):
        fail("num_batches_tracked should be left as it was, (1, 0)", f"it is {tracked}", "num_batches_tracked",
             context=context)
    for (name, p), before in zip(model.named_parameters(), parameters):
        if not np.array_equal(p.detach().numpy(), before) or p.grad is not None:
            fail("the parameters should be left as they were, with no .grad", f"{name} changed",
                 "parameters", context=context)
