"""Functions of tensors that layers are built from, PyTorch's ``torch.nn.functional``.

``import tinygrad_bn.functional as F``.  Each function first checks its
arguments as PyTorch does (Tensors, not arrays or lists; one dtype, not a mix
to promote silently), then calls one fused op (linear, the normalizations in training,
softmax, log_softmax, cross_entropy, nll_loss) or composes primitive ones.
"""
import math
import warnings

import numpy

from . import backend, inplace as _inplace
from .autograd import no_grad
from .ops.batch_norm import BatchNorm, channel_shape
from .ops.batch_renorm import BatchRenorm
from .ops.ghost_batch_norm import GhostBatchNorm
from .ops.instance_norm import InstanceNorm
from .ops.normalization import Normalize, group_layout, layer_layout
from .ops.cross_entropy import REDUCTIONS, CrossEntropy, NLLLoss
from .ops.binary_cross_entropy import BinaryCrossEntropy
from .ops.elementwise import Sigmoid, Softplus
from .ops.special import GELU
from .ops.linear import Linear
from .ops.embedding import Embedding
from .ops.shape import outside_range
from .tensor import Tensor, where


# ------------------------------------------------------------------ argument checks
def _type_name(value):
    """A type as PyTorch's errors name it: list, int, numpy.ndarray."""
    kind = type(value)
    return kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def _expect_tensors(function, names, *values, required=1):
    """PyTorch's TypeError for an argument that is not a Tensor.  ``values`` are the
    arguments named ``names``, in the order of the signature; the first ``required``
    must be Tensors, the others may also be None (not given)."""
    for position, value in enumerate(values):
        if not isinstance(value, Tensor) and (position < required or value is not None):
            raise TypeError(f"{function}(): argument '{names[position]}' (position {position + 1}) must be "
                            f"Tensor, not {_type_name(value)}")


def _expect_dtype(function, input, names, *others):
    """RuntimeError unless each Tensor of ``others`` (named ``names``; None is skipped)
    has the dtype of ``input``: PyTorch refuses the mix instead of promoting to the
    wider dtype."""
    dtype = input._data.dtype
    for name, t in zip(names, others):
        if t is not None and t._data.dtype != dtype:
            raise RuntimeError(f"{function}(): input and {name} must have the same dtype, "
                               f"but got {dtype} and {t._data.dtype}")


# ------------------------------------------------------------------ layers
def linear(input, weight, bias=None):
    """y = x W^T + b for x of shape (..., in_features) and W of shape (out_features, in_features)."""
    if not (isinstance(input, Tensor) and isinstance(weight, Tensor) and (bias is None or isinstance(bias, Tensor))):
        _expect_tensors("linear", ("input", "weight", "bias"), input, weight, bias, required=2)
    return Linear.apply(input, weight, bias)          # which checks the shapes and dtypes


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """Row ``input[...]`` of the table ``weight`` (num_embeddings, dim) for every index of
    ``input`` (int64 or int32, any shape): shape input.shape + (dim,), as
    ``torch.nn.functional.embedding``.  ``padding_idx``: that row gets no gradient.
    ``max_norm``: every looked-up row whose ``norm_type``-norm exceeds it is first scaled,
    in place, to norm max_norm (PyTorch's renorm, max_norm / (norm + 1e-7)).
    ``scale_grad_by_freq``: each row's gradient divided by how often its index appears
    in ``input``.  An index outside [0, num_embeddings) raises IndexError on every device."""
    if not (isinstance(input, Tensor) and isinstance(weight, Tensor)):
        _expect_tensors("embedding", ("input", "weight"), input, weight, required=2)
    if input._data.dtype not in (numpy.int64, numpy.int32):
        raise RuntimeError(f"embedding(): expected indices of dtype int64 or int32 (Long, Int), got {input.dtype}")
    if weight._data.ndim != 2:
        raise RuntimeError(f"embedding(): 'weight' must be 2-D (num_embeddings, embedding_dim), got shape "
                           f"{tuple(weight.shape)}")
    if input.device != weight.device:
        raise RuntimeError(f"embedding(): indices on {input.device} and weight on {weight.device}: expected "
                           f"both on the same device")
    if sparse:
        raise NotImplementedError("embedding(): sparse=True needs sparse gradient tensors, which tinygrad_bn "
                                  "does not have; use sparse=False")
    count = weight._data.shape[0]
    padding_idx = _padding_index(padding_idx, count)
    index = input._data
    outside, first = outside_range(index, count)

    def out_of_range():
        return IndexError(f"index out of range in self: embedding index {first()} is outside [0, {count}) "
                          f"for a table of {count} rows")

    if max_norm is None:
        backend.check_later(outside, out_of_range)         # on the GPU: read with the next read-back
    else:                                                  # checked now: the renorm writes into weight
        if bool(outside):
            raise out_of_range()
        _renormalize_rows(weight, index, max_norm, norm_type)
    return Embedding.apply(weight, input, padding_idx, bool(scale_grad_by_freq))


def _padding_index(padding_idx, count):
    """``padding_idx`` as a row in [0, count) (a negative one counts from the end), as
    PyTorch checks it (with an AssertionError); None stays None."""
    if padding_idx is None:
        return None
    if not -count <= padding_idx < count:
        raise AssertionError(f"Padding_idx must be within num_embeddings: got padding_idx={padding_idx} "
                             f"for {count} embeddings")
    return padding_idx + count if padding_idx < 0 else padding_idx


def _renormalize_rows(weight, index, max_norm, norm_type):
    """PyTorch's embedding_renorm_: each row of ``weight`` that ``index`` looks up and
    whose norm_type-norm exceeds max_norm is scaled in place by max_norm / (norm + 1e-7)."""
    xp = weight.xp
    rows = xp.unique(index)
    if rows.size == 0:
        return
    values = weight._data[rows]
    magnitude = xp.abs(values)
    if norm_type == math.inf:
        norms = magnitude.max(axis=1)
    else:
        norms = (magnitude ** norm_type).sum(axis=1) ** (1 / norm_type)
    scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1).astype(values.dtype)
    with no_grad():
        weight[Tensor.wrap(rows, weight.device)] = Tensor.wrap(values * scale[:, None], weight.device)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1,
               eps=1e-5):
    """Batch Normalization of x, shape (N, C, *): (N, C), (N, C, L), (N, C, H, W), ...,
    per channel (axis 1), as ``torch.nn.functional.batch_norm``.  A channel's statistics
    run over every other axis: its N * L values, or N * H * W for feature maps.

    training: normalise with the batch's mean and biased variance (the fused
    ``BatchNorm`` op) and, where the running buffers are given, update them in
    place: running = (1 - momentum) * running + momentum * batch statistic, the
    variance stored being the unbiased one.  An empty batch (N = 0, or L, H or W
    = 0) gives an empty output and leaves the buffers as they are.  Otherwise: the
    affine map y = weight * (x - running_mean) / sqrt(running_var + eps) + bias,
    which is differentiable in x, weight and bias like any composition of ops.

    As in PyTorch, training needs eps > 0 and more than one value per channel;
    eps = 0 is allowed otherwise.  ``momentum`` is a number: the cumulative
    average of ``momentum=None`` is the BatchNorm layers', which count the batches.
    """
    _check_batch_norm("batch_norm", input, running_mean, running_var, weight, bias, training, momentum, eps)
    values_per_channel = _values_per_channel(input, training)
    if training and values_per_channel == 0:
        # an empty batch has no statistics to normalise with or to fold into the running
        # buffers (PyTorch leaves them alone too): the empty output, in the graph of weight
        # and bias, whose gradients are zero
        return _per_channel_affine(input, weight, bias)
    if training:
        return BatchNorm.apply(input, weight, bias, running_mean, running_var, momentum, eps)
    return _running_statistics_affine("batch_norm", input, running_mean, running_var, weight, bias, eps)


def _check_batch_norm(function, input, running_mean, running_var, weight, bias, training, momentum, eps):
    """What batch_norm and its relatives refuse, as PyTorch does: arguments that are not
    Tensors, an input with fewer than 2 dims or not floating point, per-channel vectors
    of the wrong size or dtype, eps <= 0 in training (eps < 0 otherwise), momentum None."""
    vectors = (running_mean, running_var, weight, bias)
    if not _usual_per_channel(input, vectors):
        names = ("running_mean", "running_var", "weight", "bias")
        _expect_tensors(function, ("input",) + names, input, *vectors)
        data = input._data
        if data.ndim < 2:
            raise ValueError(f"{function}: expected an input (N, C, *) with at least 2 dimensions, got "
                             f"{data.ndim}D input of shape {tuple(data.shape)}")
        _expect_per_channel(function, input, names, vectors, ValueError)
        _expect_dtype(function, input, names, *vectors)
        raise RuntimeError(f"{function}(): expected a floating point input, got {input.dtype}")
    if training and eps <= 0:
        raise ValueError(f"{function} eps must be positive during training, but got {eps}")
    if eps < 0:
        raise ValueError(f"{function} eps must be non-negative, but got {eps}")
    if momentum is None:
        raise TypeError(f"{function}(): momentum must be a number, not None (the cumulative average of "
                        "momentum=None needs the batch count that the module keeps)")


def _usual_per_channel(input, vectors):
    """Whether the usual arguments of a batch norm are there, told in one pass: a floating
    point input Tensor (N, C, *) and per-channel vectors that are None or Tensors of shape
    (C,) and the input's dtype.  (Where not, the checks above say what is wrong, in
    PyTorch's order.)"""
    if not isinstance(input, Tensor) or input._data.ndim < 2 or input._data.dtype.kind != "f":
        return False
    channels, dtype = input._data.shape[1:2], input._data.dtype
    for t in vectors:
        if t is not None and not (isinstance(t, Tensor) and t._data.shape == channels and t._data.dtype == dtype):
            return False
    return True


def _expect_per_channel(function, input, names, vectors, error):
    """``error`` unless each vector (None is skipped) has shape (C,), C = input.shape[1]."""
    channels = input._data.shape[1]
    for name, t in zip(names, vectors):
        if t is not None and t._data.shape != (channels,):
            raise error(f"{function}: expected an input with {t._data.size} channels (the size of "
                        f"{name}), got input of shape {tuple(input.shape)} with {channels} channels")


def _values_per_channel(input, training, batch=None, within=""):
    """n * prod(S) for input (N, C, *S): what each channel's batch statistics run over,
    n = ``batch`` samples (N by default); in training there must be more than one
    value per channel (``within`` each ghost batch, say), or there is no variance."""
    shape = input._data.shape
    values = (shape[0] if batch is None else batch) * math.prod(shape[2:])
    if training and values == 1:
        raise ValueError(f"Expected more than 1 value per channel{within} when training, "
                         f"got input size {tuple(shape)}")
    return values


def _running_statistics_affine(function, input, running_mean, running_var, weight, bias, eps):
    """Eval mode of the BatchNorm family: the affine map
    y = weight * (x - running_mean) / sqrt(running_var + eps) + bias, per channel."""
    if running_mean is None or running_var is None:
        raise ValueError(f"{function}: running_mean and running_var are needed when not training")
    scale = (running_var.detach() + eps) ** -0.5
    if weight is not None:
        scale = scale * weight
    return _per_channel_affine(input - running_mean.detach().reshape(channel_shape(input)), scale, bias)


def _per_channel_affine(x, scale, shift):
    """x * scale + shift for per-channel vectors (each may be None) broadcast along axis 1."""
    shape = channel_shape(x)
    y = x if scale is None else x * scale.reshape(shape)
    return y if shift is None else y + shift.reshape(shape)


# ------------------------------------------------------------------ the normalization family
# One computation over different groups of the input (ops/normalization.py); the
# picture, the equations and when to use which: docs/normalization.md.
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer Normalization (Ba, Kiros & Hinton, 2016), as ``torch.nn.functional.layer_norm``:
    each sample is normalised over its last len(normalized_shape) dims with its own
    mean and biased variance, y = weight * (x - mu) / sqrt(var + eps) + bias, with
    ``weight`` and ``bias`` of shape ``normalized_shape`` (per element).  Nothing
    depends on the other samples, so training and eval are the same."""
    # (normalized_shape is no Tensor: None stands in for it, and it is checked below)
    _expect_tensors("layer_norm", ("input", "normalized_shape", "weight", "bias"), input, None, weight, bias)
    if not isinstance(normalized_shape, (tuple, list)):
        raise TypeError(f"layer_norm(): argument 'normalized_shape' (position 2) must be tuple of ints, not "
                        f"{_type_name(normalized_shape)}")
    for position, n in enumerate(normalized_shape):
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"layer_norm(): argument 'normalized_shape' (position 2) must be tuple of ints, but "
                            f"found element of type {_type_name(n)} at pos {position}")
    shape = tuple(normalized_shape)
    if not shape:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one "
                           "element, but got normalized_shape = []")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.shape != shape:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but got {name} of shape "
                               f"{list(t.shape)} and normalized_shape = {list(shape)}")
    if input.ndim < len(shape) or input.shape[input.ndim - len(shape):] != shape:
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, shape))}], but got input of size{list(input.shape)}")
    _expect_dtype("layer_norm", input, ("weight", "bias"), weight, bias)
    _expect_floating("layer_norm", input)
    return _normalize(input, weight, bias, layer_layout(input.shape, len(shape)), eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Group Normalization (Wu & He, 2018), as ``torch.nn.functional.group_norm``: the C
    channels of x, (N, C, *S), form ``num_groups`` groups of C/G consecutive channels,
    and each (sample, group) is normalised over its C/G * prod(S) values; ``weight``
    and ``bias`` are per channel.  One group is LayerNorm over (C, *S) (up to the
    affine map), C groups are InstanceNorm.  The same in training and eval."""
    _expect_tensors("group_norm", ("input", "num_groups", "weight", "bias"), input, None, weight, bias)
    if input.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.ndim}")
    if isinstance(num_groups, bool) or not isinstance(num_groups, int):
        raise TypeError(f"group_norm(): argument 'num_groups' (position 2) must be int, not {_type_name(num_groups)}")
    if num_groups <= 0:
        raise RuntimeError(f"Expected num groups to be greater than 0, got {num_groups}")
    batch, channels, spatial = input.shape[0], input.shape[1], list(input.shape[2:])
    if batch * channels // num_groups * math.prod(spatial) == 1:
        # PyTorch's test (torch.nn.functional._verify_batch_size on these sizes)
        raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                         f"{[batch * channels // num_groups, num_groups] + spatial}")
    if channels % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got input of "
                           f"shape {list(input.shape)} and num_groups={num_groups}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.shape != (channels,):
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of channels in input, "
                               f"but got {name} of shape {list(t.shape)} and input of shape {list(input.shape)}")
    _expect_dtype("group_norm", input, ("weight", "bias"), weight, bias)
    _expect_floating("group_norm", input)
    return _normalize(input, weight, bias, group_layout(input.shape, num_groups), eps)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Instance Normalization, as ``torch.nn.functional.instance_norm``: each (sample,
    channel) of x, (N, C, *S), is normalised over its prod(S) spatial values;
    ``weight`` and ``bias`` are per channel.

    ``use_input_stats`` (what InstanceNorm1d/2d pass in training, and always without
    running statistics): those per-instance statistics, and the running buffers, where
    given, are updated in place with the average over the samples of the instance
    statistics (the variance unbiased within each instance, ops/instance_norm.py).
    Otherwise the affine map with the running statistics, as batch_norm in eval.
    """
    if isinstance(input, Tensor) and use_input_stats and math.prod(input.shape[2:]) == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {tuple(input.shape)}")
    names, vectors = ("running_mean", "running_var", "weight", "bias"), (running_mean, running_var, weight, bias)
    _expect_tensors("instance_norm", ("input",) + names, input, *vectors)
    if input.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.ndim}")
    if isinstance(momentum, bool) or not isinstance(momentum, (int, float)):
        raise TypeError(f"instance_norm(): argument 'momentum' (position 7) must be float, not {_type_name(momentum)}")
    _expect_per_channel("instance_norm", input, names, vectors, RuntimeError)
    _expect_dtype("instance_norm", input, names, *vectors)
    _expect_floating("instance_norm", input)
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise RuntimeError("Expected running_mean and running_var to be defined when use_input_stats is false")
        return _running_statistics_affine("instance_norm", input, running_mean, running_var, weight, bias, eps)
    if input.numel() == 0:
        return _per_channel_affine(input, weight, bias)        # no statistics: nothing to normalise or fold in
    return InstanceNorm.apply(input, weight, bias, running_mean, running_var, momentum, eps)


def batch_renorm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5,
                 rmax=3.0, dmax=5.0):
    """Batch Renormalization (Ioffe, 2017; not in PyTorch) of x, (N, C, *S), per channel.

    training: BatchNorm's x_hat, corrected towards the running statistics,
    y = weight * (r x_hat + d) + bias with r = clip(sigma_B/sigma, 1/rmax, rmax),
    d = clip((mu_B - running_mean)/sigma, -dmax, dmax), sigma = sqrt(running_var +
    eps), r and d constants for the gradient (ops/batch_renorm.py); then the
    running statistics are updated as batch_norm's.  rmax = 1, dmax = 0 is
    batch_norm.  Otherwise: batch_norm's eval-mode affine map.  The arguments and
    their checks are batch_norm's; training also needs the running buffers,
    rmax >= 1 and dmax >= 0.
    """
    _check_batch_norm("batch_renorm", input, running_mean, running_var, weight, bias, training, momentum, eps)
    if not training:
        return _running_statistics_affine("batch_renorm", input, running_mean, running_var, weight, bias, eps)
    if running_mean is None or running_var is None:
        raise ValueError("batch_renorm: running_mean and running_var are needed in training too: r and d "
                         "compare the batch with them")
    if not rmax >= 1 or not dmax >= 0:
        raise ValueError(f"batch_renorm: expected rmax >= 1 and dmax >= 0, got rmax={rmax}, dmax={dmax}")
    if _values_per_channel(input, training) == 0:
        return _per_channel_affine(input, weight, bias)        # as batch_norm: no statistics, nothing updated
    return BatchRenorm.apply(input, weight, bias, running_mean, running_var, momentum, eps, rmax, dmax)


def ghost_batch_norm(input, virtual_batch_size, running_mean, running_var, weight=None, bias=None, training=False,
                     momentum=0.1, eps=1e-5):
    """Ghost Batch Normalization (Hoffer, Hubara & Soudry, 2017; not in PyTorch) of x,
    (N, C, *S), per channel.

    training: the batch is cut into N / virtual_batch_size consecutive ghost batches,
    each normalised by its own statistics as batch_norm would normalise it on its
    own, and each folded into the running buffers (where given) in order, with
    factor ``momentum``: a number, or one number per ghost batch (what GhostBatchNorm1d
    passes for momentum=None).  N must be a multiple of virtual_batch_size.
    Otherwise: batch_norm's eval-mode affine map.  The arguments and their checks
    are batch_norm's; training needs more than one value per channel in each ghost batch.
    """
    _check_batch_norm("ghost_batch_norm", input, running_mean, running_var, weight, bias, training, momentum, eps)
    if not training:
        return _running_statistics_affine("ghost_batch_norm", input, running_mean, running_var, weight, bias, eps)
    if isinstance(virtual_batch_size, bool) or not isinstance(virtual_batch_size, int) or virtual_batch_size < 1:
        raise ValueError(f"ghost_batch_norm: virtual_batch_size must be a positive int, got {virtual_batch_size!r}")
    batch = input.shape[0]
    if batch % virtual_batch_size:
        raise ValueError(f"ghost_batch_norm: a training batch of {batch} samples does not split into ghost batches "
                         f"of {virtual_batch_size}; use a batch size that is a multiple of {virtual_batch_size} "
                         f"(DataLoader(..., drop_last=True) drops a short last batch)")
    ghosts = batch // virtual_batch_size
    momenta = tuple(momentum) if isinstance(momentum, (tuple, list)) else (momentum,) * ghosts
    if len(momenta) != ghosts:
        raise ValueError(f"ghost_batch_norm: expected one momentum per ghost batch ({ghosts}), got {len(momenta)}")
    if batch == 0 or _values_per_channel(input, training, virtual_batch_size, " in each ghost batch") == 0:
        return _per_channel_affine(input, weight, bias)        # as batch_norm: no statistics, nothing updated
    return GhostBatchNorm.apply(input, weight, bias, running_mean, running_var, momenta, eps)


def _expect_floating(function, input):
    """PyTorch's NotImplementedError for an integer or boolean input to a normalization (or softplus,
    or a binary cross entropy)."""
    if input.dtype.kind != "f":
        raise NotImplementedError(f"{function}: expected a floating-point input, got {input.dtype}")


def _normalize(input, weight, bias, layout, eps):
    """The fused Normalize op in ``layout``; for an empty input, which has no statistics,
    the empty output in the graph of weight and bias (whose gradients are then zero)."""
    if input.numel() == 0:
        y = input.reshape(layout.view)
        if weight is not None:
            y = y * weight.reshape(layout.affine)
        if bias is not None:
            y = y + bias.reshape(layout.affine)
        return y.reshape(input.shape)
    return Normalize.apply(input, weight, bias, layout, eps)


def _check_dropout(p):
    """What dropout and nn.Dropout both refuse: p outside [0, 1] (as PyTorch)."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def dropout(input, p=0.5, training=True, inplace=False):
    """In training, each element is zeroed with probability p and the others scaled by
    1/(1 - p), so each keeps its expected value, E[y] = x; the gradient is the same
    mask.  Otherwise (or with p = 0) the input itself.  ``inplace`` multiplies the
    input by the mask in place (``input.mul_``) and returns it.

    The mask is drawn from the library's generator (``tg.manual_seed``) on the
    host and moved, so a seed gives the same mask on every device.
    """
    _expect_tensors("dropout", ("input",), input)
    _check_dropout(p)
    if not training or p == 0:
        return input
    keep = backend.rng().random(input.shape) >= p
    scale = 1 / (1 - p) if p < 1 else 0.0        # p = 1 drops everything: zeros, not 0 * inf
    mask = Tensor.wrap(backend.to_device((keep * scale).astype(input.dtype), input.device), input.device)
    return input.mul_(mask) if inplace else input * mask


# ------------------------------------------------------------------ activations
def sigmoid(input):
    """1 / (1 + e^-x), elementwise."""
    if not isinstance(input, Tensor):
        _expect_tensors("sigmoid", ("input",), input)
    return Sigmoid.apply(input if input._data.dtype.kind in "fc" else input._as_float())   # input.sigmoid()


def relu(input, inplace=False):
    """max(x, 0), elementwise (written into input with ``inplace``)."""
    if not isinstance(input, Tensor):
        _expect_tensors("relu", ("input",), input)
    return input.relu_() if inplace else input.relu()


def tanh(input):
    if not isinstance(input, Tensor):
        _expect_tensors("tanh", ("input",), input)
    return input.tanh()


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x for x > 0, negative_slope * x otherwise."""
    _expect_tensors("leaky_relu", ("input",), input)
    return _maybe_in_place(input, "leaky_relu", inplace, lambda x: x.leaky_relu(negative_slope))


def elu(input, alpha=1.0, inplace=False):
    """x for x > 0, alpha (e^x - 1) otherwise, as ``torch.nn.functional.elu``; the derivative at
    0 is alpha, PyTorch's (e^x is taken of min(x, 0) only, so no large x overflows)."""
    _expect_tensors("elu", ("input",), input)
    _expect_floating("elu", input)
    return _maybe_in_place(input, "elu", inplace, lambda x: where(x > 0, x, alpha * (x.clamp(max=0.0).exp() - 1)))


def gelu(input, approximate="none"):
    """x Phi(x), Phi the standard normal CDF, as ``torch.nn.functional.gelu``; with
    ``approximate="tanh"`` the tanh form x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2
    (ops/special.py)."""
    if not isinstance(input, Tensor):
        _expect_tensors("gelu", ("input",), input)
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"approximate argument must be either none or tanh, got {approximate!r}")
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f"gelu(): not implemented for {input.dtype} input (floating point only, "
                                  f"as in PyTorch)")
    return GELU.apply(input, approximate)


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + e^(beta x)) / beta, and x where beta x > threshold, as ``torch.nn.functional.softplus``;
    computed without overflow for any x (ops/elementwise.py)."""
    _expect_tensors("softplus", ("input",), input)
    _expect_floating("softplus", input)
    return Softplus.apply(input, float(beta), float(threshold))


def softmax(input, dim=None):
    """e^x / sum(e^x) along ``dim``, stable for large inputs."""
    _expect_tensors("softmax", ("input",), input)
    return input.softmax(_softmax_dim("softmax", input, dim))


def log_softmax(input, dim=None):
    """x - log sum(e^x) along ``dim``, stable for large inputs."""
    _expect_tensors("log_softmax", ("input",), input)
    return input.log_softmax(_softmax_dim("log_softmax", input, dim))


def _softmax_dim(name, input, dim):
    """``dim``, or where it is missing PyTorch's old implicit choice (0 for 0-, 1- and 3-d
    input, else 1), with PyTorch's deprecation warning."""
    if dim is not None:
        return dim
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X "
                  f"as an argument.", UserWarning, stacklevel=3)
    return 0 if input.ndim in (0, 1, 3) else 1


def silu(input, inplace=False):
    """x sigmoid(x), the swish of Ramachandran et al. (2017) with beta = 1."""
    _expect_tensors("silu", ("input",), input)
    return _maybe_in_place(input, "silu", inplace, lambda x: x * x.sigmoid())


def mish(input, inplace=False):
    """x tanh(softplus(x)) (Misra, 2019)."""
    _expect_tensors("mish", ("input",), input)
    return _maybe_in_place(input, "mish", inplace, lambda x: x * softplus(x).tanh())


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """x clipped to [min_val, max_val]; the gradient is 1 strictly inside, 0 elsewhere (PyTorch's)."""
    _expect_tensors("hardtanh", ("input",), input)
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")

    def clip(x):
        inside = (x > min_val) & (x < max_val)
        return where(inside, x, x.clamp(min_val, max_val).detach())
    return _maybe_in_place(input, "hardtanh", inplace, clip)


def relu6(input, inplace=False):
    """min(max(x, 0), 6): ``hardtanh(x, 0, 6)``."""
    return hardtanh(input, 0.0, 6.0, inplace)


def hardsigmoid(input, inplace=False):
    """x / 6 + 1/2 clipped to [0, 1]; the gradient 1/6 strictly inside (-3, 3), 0 elsewhere."""
    _expect_tensors("hardsigmoid", ("input",), input)

    def hard(x):
        line = x / 6 + 0.5
        return where((x > -3) & (x < 3), line, line.clamp(0.0, 1.0).detach())
    return _maybe_in_place(input, "hardsigmoid", inplace, hard)


def hardswish(input, inplace=False):
    """x hardsigmoid(x) (Howard et al., 2019): 0 for x <= -3, x for x >= 3, x (x + 3) / 6 between."""
    _expect_tensors("hardswish", ("input",), input)
    return _maybe_in_place(input, "hardswish", inplace,
                           lambda x: where(x <= -3, 0.0, where(x >= 3, x, x * (x + 3) / 6)))


def logsigmoid(input):
    """log sigmoid(x) = -softplus(-x), without overflow."""
    _expect_tensors("logsigmoid", ("input",), input)
    return -softplus(-input)


def softsign(input):
    """x / (1 + |x|)."""
    _expect_tensors("softsign", ("input",), input)
    return input / (input.abs() + 1)


def softmin(input, dim=None):
    """e^-x / sum(e^-x) along ``dim``: ``softmax(-x)``."""
    _expect_tensors("softmin", ("input",), input)
    return (-input).softmax(_softmax_dim("softmin", input, dim))


_SELU_ALPHA = 1.6732632423543772848170429916717    # Klambauer et al. (2017)
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input, inplace=False):
    """scale * elu(x, alpha) with the constants of Klambauer et al. (2017), which keep
    activations at zero mean and unit variance."""
    _expect_tensors("selu", ("input",), input)
    return _maybe_in_place(input, "selu", inplace, lambda x: elu(x, _SELU_ALPHA) * _SELU_SCALE)


def celu(input, alpha=1.0, inplace=False):
    """max(0, x) + min(0, alpha (e^(x / alpha) - 1)) (Barron, 2017)."""
    _expect_tensors("celu", ("input",), input)
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    return _maybe_in_place(input, "celu", inplace,
                           lambda x: where(x > 0, x, ((x.clamp(max=0.0) / alpha).exp() - 1) * alpha))


def prelu(input, weight):
    """x for x > 0, a x otherwise, with a learnt slope a: one for all channels, or one per
    channel (dim 1 of the input, ``weight`` of shape (C,))."""
    _expect_tensors("prelu", ("input", "weight"), input, weight, required=2)
    if weight.ndim != 1:
        raise RuntimeError(f"prelu: weight must be 1-D, got shape {tuple(weight.shape)}")
    count = weight.shape[0]
    if count != 1:
        channels = input.shape[1] if input.ndim >= 2 else 1
        if count != channels:
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                               f"{count} and channel size = {channels}.")
        weight = weight.reshape((count,) + (1,) * (input.ndim - 2))
    return where(input > 0, input, input * weight)


def threshold(input, threshold, value, inplace=False):
    """x where x > threshold, else ``value``."""
    _expect_tensors("threshold", ("input",), input)
    return _maybe_in_place(input, "threshold", inplace, lambda x: where(x > threshold, x, value))


def tanhshrink(input):
    """x - tanh x."""
    _expect_tensors("tanhshrink", ("input",), input)
    return input - input.tanh()


def softshrink(input, lambd=0.5):
    """x - lambd above lambd, x + lambd below -lambd, 0 between."""
    _expect_tensors("softshrink", ("input",), input)
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    return where(input > lambd, input - lambd, where(input < -lambd, input + lambd, 0.0))


def hardshrink(input, lambd=0.5):
    """x where |x| > lambd, else 0."""
    _expect_tensors("hardshrink", ("input",), input)
    return where(input.abs() > lambd, input, 0.0)


def _maybe_in_place(input, name, inplace, compute):
    """``compute(input)``, or with ``inplace`` written into input (as ``x.relu_()``)."""
    if inplace:
        return _inplace.modify(input, name + "_", compute)
    return compute(input)


# ------------------------------------------------------------------ losses
def cross_entropy(input, target, weight=None, *, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """-log softmax(input)[target], as ``torch.nn.functional.cross_entropy`` (one fused op).

    ``input``: logits (N, C), (N, C, d1, d2, ...) or one sample (C,).  ``target``:
    class indices (int64 or uint8) of shape (N,), (N, d1, d2, ...) or (), or class
    probabilities of the input's own shape.  ``weight`` (C,): a weight per class.
    ``ignore_index``: a class index whose samples count for nothing (class
    indices only).  ``label_smoothing`` eps in [0, 1]: the target mixed with the
    uniform distribution, (1 - eps) target + eps / C.  ``reduction``: "mean" (for
    class indices the weighted mean, divided by the summed weights of the counted
    samples), "sum" or "none".  The formulas are in ops/cross_entropy.py.
    """
    if not (isinstance(input, Tensor) and isinstance(target, Tensor) and weight is None):
        _expect_tensors("cross_entropy", ("input", "target", "weight"), input, target, weight, required=2)
        _expect_dtype("cross_entropy", input, ("weight",), weight)
    if input.ndim == 1:
        return _one_sample(cross_entropy, input, target, weight, reduction,
                           ignore_index=ignore_index, label_smoothing=label_smoothing)
    return CrossEntropy.apply(input, target, weight, ignore_index, reduction, label_smoothing)


def nll_loss(input, target, weight=None, *, ignore_index=-100, reduction="mean"):
    """-input[target] for log-probabilities ``input`` (e.g. from log_softmax), as
    ``torch.nn.functional.nll_loss``: shapes, ``weight``, ``ignore_index`` and
    ``reduction`` as in cross_entropy, class-index targets only."""
    _expect_tensors("nll_loss", ("input", "target", "weight"), input, target, weight, required=2)
    _expect_dtype("nll_loss", input, ("weight",), weight)
    if input.ndim == 1:
        return _one_sample(nll_loss, input, target, weight, reduction, ignore_index=ignore_index)
    return NLLLoss.apply(input, target, weight, ignore_index, reduction)


def _one_sample(loss, input, target, weight, reduction, **options):
    """``loss`` of one unbatched sample, input (C,): a batch of one, with a 0-d result."""
    out = loss(input.reshape(1, -1), target.reshape((1,) + target.shape), weight, reduction=reduction, **options)
    return out.reshape(()) if reduction == "none" else out


def binary_cross_entropy(input, target, weight=None, *, reduction="mean"):
    """-w (y log p + (1 - y) log(1 - p)) for probabilities p (``input``, in [0, 1]) and targets y
    of the same shape, as ``torch.nn.functional.binary_cross_entropy``: each log clamped at
    -100, dl/dp = w (p - y) / max(p (1 - p), 1e-12) (ops/binary_cross_entropy.py).  ``weight``
    broadcasts against the input.  From logits, binary_cross_entropy_with_logits is exact
    where this one's sigmoid would round to 0 or 1."""
    _expect_tensors("binary_cross_entropy", ("input", "target", "weight"), input, target, weight, required=2)
    if reduction not in REDUCTIONS:
        raise ValueError(f"binary_cross_entropy: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    if target.shape != input.shape:
        raise ValueError(f"Using a target size ({tuple(target.shape)}) that is different to the input size "
                         f"({tuple(input.shape)}) is deprecated. Please ensure they have the same size.")
    _expect_floating("binary_cross_entropy", input)
    _expect_dtype("binary_cross_entropy", input, ("target", "weight"), target, weight)
    p = input._data
    backend.check_later(((p < 0) | (p > 1)).any(),
                        lambda: RuntimeError("all elements of input should be between 0 and 1"))
    losses = BinaryCrossEntropy.apply(input, target)
    return _reduce(losses if weight is None else losses * weight, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, *, reduction="mean", pos_weight=None):
    """The binary cross entropy of sigmoid(input) against ``target`` (values in [0, 1], the
    input's shape), as ``torch.nn.functional.binary_cross_entropy_with_logits``, computed from
    the logits x without forming the sigmoid:

        l = w ((1 - y) x + (1 + (pw - 1) y) softplus(-x)),    softplus(-x) = -log sigmoid(x)

    which is -w (pw y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))).  ``weight`` w and
    ``pos_weight`` pw (the positive class's weight, e.g. per class along the last axis)
    broadcast against the input.  dl/dx = w (sigmoid(x) - y) without pw: smooth everywhere,
    to any order, since softplus' derivative is a sigmoid."""
    _expect_tensors("binary_cross_entropy_with_logits", ("input", "target", "weight", "pos_weight"),
                    input, target, weight, pos_weight, required=2)
    if reduction not in REDUCTIONS:
        raise ValueError(f"binary_cross_entropy_with_logits: reduction must be one of {REDUCTIONS}, "
                         f"got {reduction!r}")
    if target.shape != input.shape:
        raise ValueError(f"Target size ({tuple(target.shape)}) must be the same as input size "
                         f"({tuple(input.shape)})")
    _expect_floating("binary_cross_entropy_with_logits", input)
    _expect_dtype("binary_cross_entropy_with_logits", input, ("target", "weight", "pos_weight"), target, weight,
                  pos_weight)
    log_of_one_minus = Softplus.apply(-input, 1.0, math.inf)        # -log sigmoid(x), never overflowing
    if pos_weight is not None:
        log_of_one_minus = (1 + (pos_weight - 1) * target) * log_of_one_minus
    losses = (1 - target) * input + log_of_one_minus
    if weight is not None:
        losses = losses * weight
    return _reduce(losses, reduction)


def one_hot(tensor, num_classes=-1):
    """Class indices (int64, any shape S) as one-hot rows, shape (*S, num_classes), int64, as
    ``torch.nn.functional.one_hot``; ``num_classes=-1`` takes the largest index + 1.  Integers
    carry no gradient."""
    _expect_tensors("one_hot", ("tensor",), tensor)
    if tensor.dtype != numpy.int64:
        raise RuntimeError(f"one_hot is only applicable to index tensor of type int64, got {tensor.dtype}")
    indices = tensor._data
    if indices.size == 0 and num_classes == -1:
        raise RuntimeError("Can not infer total number of classes from empty tensor.")
    xp = tensor.xp
    low, high = 0, -1
    if indices.size:                                       # both in one read back to the host
        low, high = backend.to_numpy(xp.stack([indices.min(), indices.max()])).tolist()
    if low < 0:
        raise RuntimeError(f"Class values must be non-negative, got {low}.")
    classes = high + 1 if num_classes == -1 else num_classes
    if high >= classes:
        raise RuntimeError(f"Class values must be smaller than num_classes ({classes}), got {high}.")
    return Tensor.wrap((indices[..., None] == xp.arange(classes)).astype(numpy.int64), tensor.device)


def _check_pointwise_loss(function, input, target, reduction):
    """What mse_loss, l1_loss and smooth_l1_loss refuse: arguments that are not Tensors, an unknown
    reduction, and (unlike PyTorch, which broadcasts with a warning) different shapes."""
    _expect_tensors(function, ("input", "target"), input, target, required=2)
    if reduction not in REDUCTIONS:
        raise ValueError(f"{function}: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    if input.shape != target.shape:
        raise ValueError(f"{function}: input of shape {tuple(input.shape)} and target of shape {tuple(target.shape)} differ")


def _reduce(losses, reduction):
    """The elementwise ``losses`` reduced by "mean", "sum" or "none"."""
    if reduction == "mean":
        return losses.mean()
    return losses.sum() if reduction == "sum" else losses


def mse_loss(input, target, *, reduction="mean"):
    """(input - target)^2 elementwise, reduced by "mean", "sum" or "none".

    Unlike PyTorch, which broadcasts with a warning, different shapes are an error.
    """
    _check_pointwise_loss("mse_loss", input, target, reduction)
    difference = input - target
    return _reduce(difference * difference, reduction)


def l1_loss(input, target, *, reduction="mean"):
    """|input - target| elementwise, reduced by "mean", "sum" or "none" (the gradient at a
    difference of 0 is 0, as PyTorch's sign(0)).  Different shapes are an error, as in mse_loss."""
    _check_pointwise_loss("l1_loss", input, target, reduction)
    return _reduce((input - target).abs(), reduction)


def smooth_l1_loss(input, target, *, reduction="mean", beta=1.0):
    """0.5 d^2 / beta where |d| < beta, |d| - 0.5 beta elsewhere, for d = input - target, as
    ``torch.nn.functional.smooth_l1_loss`` (beta = 0: l1_loss); the two pieces meet with equal
    slopes, so the gradient is continuous.  Different shapes are an error, as in mse_loss."""
    _check_pointwise_loss("smooth_l1_loss", input, target, reduction)
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss does not support negative values for beta, got {beta}")
    difference = input - target
    if beta == 0:
        return _reduce(difference.abs(), reduction)
    size = difference.abs()
    return _reduce(where(size < beta, difference * difference * (0.5 / beta), size - 0.5 * beta), reduction)


def huber_loss(input, target, *, reduction="mean", delta=1.0):
    """0.5 d^2 where |d| < delta, delta (|d| - 0.5 delta) elsewhere, for d = input - target:
    ``delta * smooth_l1_loss(beta=delta)``, as ``torch.nn.functional.huber_loss``."""
    _check_pointwise_loss("huber_loss", input, target, reduction)
    if not delta > 0:
        raise RuntimeError(f"huber_loss does not support non-positive values for delta, got {delta}")
    return smooth_l1_loss(input, target, reduction=reduction, beta=delta) * delta


def kl_div(input, target, *, reduction="mean", log_target=False):
    """The Kullback-Leibler divergence sum p (log p - input) of the target distribution p
    from log-probabilities ``input`` (p log p taken as 0 where p = 0; with ``log_target``
    the target is log p).  ``reduction="batchmean"`` divides the sum by the batch size,
    the divergence's own value; "mean" divides by the number of elements, as PyTorch's
    default does (with its warning)."""
    _expect_tensors("kl_div", ("input", "target"), input, target, required=2)
    if reduction not in ("mean", "sum", "none", "batchmean"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if input.shape != target.shape:
        raise ValueError(f"kl_div: input of shape {tuple(input.shape)} and target of shape "
                         f"{tuple(target.shape)} differ")
    if log_target:
        pointwise = target.exp() * (target - input)
    else:
        positive = target > 0
        safe = where(positive, target, 1.0)
        pointwise = where(positive, target * (safe.log() - input), -target * input)
    if reduction == "batchmean":
        return pointwise.sum() / (input.shape[0] if input.ndim else 1)
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition.",
                      UserWarning, stacklevel=2)
    return _reduce(pointwise, reduction)


def normalize(input, p=2.0, dim=1, eps=1e-12):
    """input / max(||input||_p, eps) along ``dim``: unit vectors (zero stays zero)."""
    _expect_tensors("normalize", ("input",), input)
    return input / input.norm(p, dim, keepdim=True).clamp(min=eps)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """x1 . x2 / (max(||x1||, eps) max(||x2||, eps)) along ``dim`` (x1 and x2 broadcast)."""
    _expect_tensors("cosine_similarity", ("x1", "x2"), x1, x2, required=2)
    n1 = x1.norm(2, dim, keepdim=True).clamp(min=eps)
    n2 = x2.norm(2, dim, keepdim=True).clamp(min=eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p along the last dim, row by row (x1 and x2 broadcast)."""
    _expect_tensors("pairwise_distance", ("x1", "x2"), x1, x2, required=2)
    return (x1 - x2 + eps).norm(p, -1, keepdim=keepdim)


# ------------------------------------------------------------ convolution, pooling, padding
# The ops and their derivations: ops/conv.py, ops/pool.py, ops/pad.py, docs/conv.md.
from .ops import conv as _conv, pad as _pad, pool as _pool  # noqa: E402


def _as_batch(op, x):
    """x as a batch (N, C, H, W), and whether it was a single image (C, H, W) to unwrap again."""
    _expect_tensors(op, ("input",), x)
    if x.ndim not in (3, 4):
        raise RuntimeError(f"Expected 3D (unbatched) or 4D (batched) input to {op}, but got input of size: "
                           f"{list(x.shape)}")
    return (x, False) if x.ndim == 4 else (x.unsqueeze(0), True)


def _unbatch(y, single):
    return y.squeeze(0) if single else y


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (a cross-correlation) of input (N, C, H, W) or (C, H, W) with weight
    (C_out, C/groups, kH, kW), plus bias (C_out,), as ``torch.nn.functional.conv2d``.

    stride, padding, dilation: an int or a pair (height, width); padding may also
    be "valid" (none) or "same" (the output keeps H, W; stride 1 only).  Output size
    H_out = floor((H + 2 padding - dilation (kH - 1) - 1) / stride) + 1.
    """
    _expect_tensors("conv2d", ("input", "weight", "bias"), input, weight, bias, required=2)
    x, single = _as_batch("conv2d", input)
    windows = _conv.conv2d_windows(x, weight, bias, stride, padding, dilation, groups)
    return _unbatch(_conv.Conv2d.apply(x, weight, bias, windows, groups), single)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """The transposed convolution of input (N, C_in, H, W) or (C_in, H, W) with weight
    (C_in, C_out/groups, kH, kW), as ``torch.nn.functional.conv_transpose2d``: the
    adjoint (the input gradient) of conv2d with the same weight and arguments, with
    H_out = (H - 1) stride - 2 padding + dilation (kH - 1) + output_padding + 1.
    """
    _expect_tensors("conv_transpose2d", ("input", "weight", "bias"), input, weight, bias, required=2)
    x, single = _as_batch("conv_transpose2d", input)
    windows = _conv.conv_transpose2d_windows(x, weight, bias, stride, padding, output_padding, groups, dilation)
    return _unbatch(_conv.ConvTranspose2d.apply(x, weight, bias, windows, groups), single)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """The maximum of every window, per channel, as ``torch.nn.functional.max_pool2d``
    (stride defaults to kernel_size; padding, at most half the window, never wins).

    The gradient goes to one element per window: the first maximum in scan order
    (row by row) among tied ones, the last NaN if there is one, as PyTorch on the
    CPU.  ``return_indices=True`` also returns where each maximum sits, as an int64
    index into the flattened H W plane of the input.
    """
    x, single = _as_batch("max_pool2d", input)
    windows = _pool.pool_windows("max_pool2d", x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    y = _unbatch(_pool.MaxPool2d.apply(x, windows), single)
    if not return_indices:
        return y
    indices = _pool.input_indices(_pool.window_max(x._data, windows)[1], windows)
    return y, _unbatch(Tensor.wrap(indices, x.device), single)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """The mean of every window, per channel, as ``torch.nn.functional.avg_pool2d``:
    the window's sum divided by its size counting the zero padding
    (``count_include_pad``), by the number of input elements in it (otherwise), or
    by ``divisor_override``."""
    x, single = _as_batch("avg_pool2d", input)
    if not x.is_floating_point():
        raise RuntimeError(f"avg_pool2d: expected a floating-point input, got {x.dtype}")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("avg_pool2d: divisor must be not zero")
    windows = _pool.pool_windows("avg_pool2d", x.shape, kernel_size, stride, padding, 1, ceil_mode)
    divisor = divisor_override if divisor_override is not None else \
        _pool.window_counts(x, windows, count_include_pad)
    return _unbatch(_pool.average_pool(x, windows, divisor), single)


def adaptive_avg_pool2d(input, output_size):
    """The mean over output_size (an int, a pair, None keeping the input's size) windows
    per channel, as ``torch.nn.functional.adaptive_avg_pool2d``: window i along an axis
    of size n covers [floor(i n / n_out), ceil((i + 1) n / n_out)).  Output size 1 is
    the global average pool: the mean over H and W."""
    x, single = _as_batch("adaptive_avg_pool2d", input)
    if not x.is_floating_point():
        raise RuntimeError(f"adaptive_avg_pool2d: expected a floating-point input, got {x.dtype}")
    sizes = (output_size, output_size) if output_size is None or isinstance(output_size, int) \
        else tuple(output_size)
    if len(sizes) != 2 or any(s is not None and (isinstance(s, bool) or not isinstance(s, int) or s < 0)
                              for s in sizes):
        raise RuntimeError(f"adaptive_avg_pool2d: output_size must be an int or a pair of non-negative ints "
                           f"(or None), but got {output_size!r}")
    (h, w), (ho, wo) = x.shape[2:], [n if s is None else s for n, s in zip(x.shape[2:], sizes)]
    rows, columns = _pool.adaptive_average_matrix(x, h, ho), _pool.adaptive_average_matrix(x, w, wo)
    return _unbatch(rows @ (x @ columns.T), single)          # y = A_H x A_W^T


def pad(input, pad, mode="constant", value=None):
    """input with ``pad`` = (left, right, top, bottom, ...) elements of ``value`` (default
    0) added to its last len(pad) / 2 dims, last dim first, as
    ``torch.nn.functional.pad`` in "constant" mode; negative numbers crop."""
    _expect_tensors("pad", ("input",), input)
    if mode != "constant":
        if mode in ("reflect", "replicate", "circular"):
            raise NotImplementedError(f"pad: mode {mode!r} is not implemented; tinygrad_bn pads in mode 'constant'")
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    widths = _pad.pad_widths(pad, input.shape)
    return _pad.Pad.apply(input, widths, 0 if value is None else value)


_INTERPOLATION = {"nearest": None, "linear": 3, "bilinear": 4}     # mode -> the input's ndim it is for


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None):
    """(N, C, L) or (N, C, H, W) resampled to ``size`` or by ``scale_factor``, as
    ``torch.nn.functional.interpolate``: "nearest" takes, for output position j, the input
    at floor(j * scale); "linear" (3-D) and "bilinear" (4-D) mix the two neighbours of
    (j + 1/2) scale - 1/2 (or of j (in - 1) / (out - 1) with ``align_corners``), one
    spatial dim after the other.  scale is in / out, or 1 / scale_factor when that is
    given (PyTorch's rule unless ``recompute_scale_factor``).  Differentiable: indexing
    and weighted sums."""
    _expect_tensors("interpolate", ("input",), input)
    if mode not in _INTERPOLATION:
        raise NotImplementedError(f"interpolate: mode {mode!r} is not implemented (nearest, linear, bilinear)")
    if input.ndim not in (3, 4) or (_INTERPOLATION[mode] not in (None, input.ndim)):
        raise NotImplementedError(f"interpolate: got {input.ndim}D input and mode {mode!r}; expected 3D input for "
                                  f"'linear', 4D for 'bilinear', 3D or 4D for 'nearest'")
    if mode == "nearest" and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: linear | bilinear | "
                         "bicubic | trilinear")
    spatial = input.shape[2:]
    if (size is None) == (scale_factor is None):
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        sizes = tuple(size) if isinstance(size, (tuple, list)) else (size,) * len(spatial)
        scales = [n / s for n, s in zip(spatial, sizes)]
    else:
        factors = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * len(spatial)
        sizes = tuple(int(math.floor(n * f)) for n, f in zip(spatial, factors))
        scales = [n / s if recompute_scale_factor else 1 / f for n, s, f in zip(spatial, sizes, factors)]
    if len(sizes) != len(spatial):
        raise ValueError(f"interpolate: size {size!r} or scale_factor {scale_factor!r} does not give one size per "
                         f"spatial dim of the input of shape {tuple(input.shape)}")
    out = input
    for axis, (n, m, scale) in enumerate(zip(spatial, sizes, scales), start=2):
        j = numpy.arange(m)
        before = (slice(None),) * axis
        if mode == "nearest":
            out = out[before + (numpy.minimum(numpy.floor(j * scale).astype(numpy.int64), n - 1),)]
            continue
        if align_corners:
            source = j * ((n - 1) / (m - 1) if m > 1 else 0.0)
        else:
            source = numpy.maximum((j + 0.5) * scale - 0.5, 0.0)
        low = numpy.minimum(numpy.floor(source).astype(numpy.int64), n - 1)
        high = numpy.minimum(low + 1, n - 1)
        weight = (source - low).reshape((m,) + (1,) * (input.ndim - axis - 1))
        w = Tensor.wrap(backend.to_device(weight.astype(input.dtype), input.device), input.device)
        out = out[before + (low,)] * (1 - w) + out[before + (high,)] * w
    return out
