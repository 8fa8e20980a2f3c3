"""Cross entropy and negative log-likelihood as fused ops (``F.cross_entropy``, ``F.nll_loss``).

Both losses are a weighted negative log-likelihood of log-probabilities log p
along the class axis 1 of an input of shape (N, C, d1, d2, ...):

    loss_n = - sum_c a_nc log p_nc          (n: one of the N x d1 x d2 ... samples)

NLLLoss takes log p as its input.  CrossEntropy takes logits z and computes
log p = log_softmax(z) itself, once and stably (see LogSoftmax).  The
coefficients a come from the target, the class weights w (1 when not given)
and the label smoothing eps (0 for nll_loss), as PyTorch defines them:

    class indices t_n:         a_nc = (1 - eps) w_{t_n} [c = t_n] + (eps / C) w_c
                               (a_n = 0 where t_n is ignore_index)
    class probabilities q_nc:  a_nc = ((1 - eps) q_nc + eps / C) w_c

"none" returns every loss_n and "sum" their sum; "mean" divides the sum by D:
for class indices the summed weights w_{t_n} of the counted samples (a
weighted mean), for probabilities the number of samples.  D = 0 (an empty
batch, every target ignored) makes the mean 0/0 = nan, as in PyTorch.

Backward, with g_n the upstream gradient of loss_n (g / D for the mean):

    nll_loss:       dL/d log p_nc = -g_n a_nc
    cross_entropy:  dL/dz_nc      =  g_n (p_nc A_n - a_nc),  with A_n = sum_c a_nc,
                                     since d log p_nc / dz_nk = [c = k] - p_nk
    probabilities:  dL/dq_nc      = -g_n (1 - eps) w_c log p_nc

Without weights or smoothing A_n = 1: dL/dz = g (softmax - onehot).
CrossEntropy keeps log p as a node of the graph, so the softmax p = e^(log p)
that its backward uses is differentiable again (double backward).
"""
import math

from .. import backend
from ..autograd import Function, formula
from ..tensor import Tensor
from .softmax import LogSoftmax

REDUCTIONS = ("mean", "sum", "none")


def with_class_axis(x):
    """x of shape (N, d1, ...) as (N, 1, d1, ...), to broadcast against (N, C, d1, ...)."""
    return x.reshape(x.shape[:1] + (1,) + x.shape[1:])


def pick(xp, x, index):
    """x[n, index_n, ...] for arrays x (N, C, d1, ...) and index (N, d1, ...): each
    sample's entry for its class."""
    if x.ndim == 2:                      # the usual case, where plain indexing is faster
        return x[xp.arange(x.shape[0]), index]
    return xp.take_along_axis(x, with_class_axis(index), axis=1)[:, 0]


def put(xp, shape, index, values):
    """The array of ``shape`` (N, C, d1, ...) holding values_n at [n, index_n, ...] and 0
    elsewhere, for index of shape (N, d1, ...) and values of that shape or one 0-d value for
    all: the reverse of ``pick``."""
    if len(shape) == 2:
        out = xp.zeros(shape, values.dtype)
        out[xp.arange(shape[0]), index] = values
        return out
    classes = xp.arange(shape[1]).reshape((1, shape[1]) + (1,) * (len(shape) - 2))
    return (with_class_axis(index) == classes) * with_class_axis(values)


def probability_coefficients(q, w, eps, classes):
    """a = ((1 - eps) q + eps / C) w for class probabilities q; arrays or Tensors alike
    (w broadcast along the class axis, or None for no weights)."""
    a = q * (1 - eps) + eps / classes if eps else q
    return a if w is None else a * w


def softmax_gradient(p, a, total, g):
    """dL/dz = g (p A - a), with ``total`` A = sum of a over the classes (None for A = 1);
    arrays or Tensors alike."""
    return ((p if total is None else p * total) - a) * g


class _NegativeLogLikelihood(Function):
    """What NLLLoss and CrossEntropy share: the reduced loss of log p, and for the
    backward the coefficients a and the upstream gradients g_n (module docstring)."""

    def loss(self, logp, target, weight, ignore_index, reduction, eps, every_sample_counts):
        """The loss of the log-probabilities ``logp`` (an array), reduced; keeps on the
        node what the backward needs.  ``every_sample_counts``: no target is ignore_index."""
        xp = target.xp
        classes = logp.shape[1]
        w = None if weight is None else weight._data.reshape((1, classes) + (1,) * (logp.ndim - 2))
        self.shape, self.w, self.eps, self.reduction = logp.shape, w, eps, reduction
        probabilities = target.shape == logp.shape
        if probabilities:                                 # class probabilities q
            self.valid = None
            self.a = probability_coefficients(target._data, w, eps, classes)
            losses = -(self.a * logp).sum(axis=1)
            counted = losses.size
        elif every_sample_counts and w is None and not eps:     # the usual case: a_n = onehot(t_n)
            losses = -pick(xp, logp, target._data)
            self.a, self.safe, self.w_t, self.valid = None, target._data, None, None
            counted = losses.size
        else:                                             # class indices t
            t = target._data
            valid = t != ignore_index
            safe = xp.where(valid, t, 0)                  # any class for the ignored: they count 0
            w_t = valid.astype(logp.dtype) if w is None else xp.where(valid, weight._data[safe], 0)
            picked = xp.where(valid, pick(xp, logp, safe), 0)     # 0, not 0 * log p (-inf is possible)
            losses = -picked if w is None else -w_t * picked
            if eps:
                smoothed = -(logp if w is None else logp * w).sum(axis=1)
                losses = (1 - eps) * losses + (eps / classes) * xp.where(valid, smoothed, 0)
            self.a = None                                 # coefficients() builds it when needed
            self.safe, self.w_t, self.valid = safe, w_t, valid
            counted = w_t.sum()
        if reduction == "none":
            return losses
        if reduction == "sum":
            return losses.sum()
        if self.valid is None:                            # D = the number of samples, known here
            self.scale = 1 / counted if counted else math.nan     # (no samples: the gradient is empty)
            return losses.sum() * self.scale
        # D = the summed weights, an array: kept on the device, as is the choice for D = 0,
        # where 0/0 gives nan to the counted samples and 0 to the ignored ones (as PyTorch)
        some = counted > 0
        inverse = (1 / xp.where(some, counted, 1)).astype(logp.dtype)
        self.scale = with_class_axis(xp.where(some, inverse, xp.where(self.valid, math.nan, 0)).astype(logp.dtype))
        return losses.sum() * xp.where(some, inverse, math.nan)

    def coefficients(self):
        """The arrays a and A (sums of a over the classes, with a class axis) of the module
        docstring; A is None where it is 1."""
        if self.a is not None:                            # class probabilities
            return self.a, self.a.sum(axis=1, keepdims=True)
        xp = self.inputs[0].xp
        if self.w_t is None:                              # every sample counts once: a is one-hot, A = 1
            return put(xp, self.shape, self.safe, xp.ones((), self.inputs[0].dtype)), None
        classes, eps = self.shape[1], self.eps
        w_t = with_class_axis(self.w_t)
        if not eps:
            return put(xp, self.shape, self.safe, self.w_t), w_t
        uniform = (eps / classes) * with_class_axis(self.valid)          # eps / C for the counted
        smoothing, weights = (uniform, classes) if self.w is None else (uniform * self.w, self.w.sum())
        a = put(xp, self.shape, self.safe, (1 - eps) * self.w_t) + smoothing
        return a, (1 - eps) * w_t + uniform * weights

    def upstream(self, g):
        """g_n with a class axis, to broadcast against (N, C, d1, ...): the gradient of
        each loss_n ("none"), g ("sum"), g / D ("mean"); arrays or Tensors alike."""
        if self.reduction == "none":
            return with_class_axis(g)
        return g if self.reduction == "sum" else g * self.scale


class NLLLoss(_NegativeLogLikelihood):
    """loss_n = -w_{t_n} log p_n[t_n] for log-probabilities ``logp`` (N, C, d1, ...)
    and class indices t (N, d1, ...).   dL/d log p = -g_n a_n (module docstring)."""

    @staticmethod
    def forward(ctx, logp, target, weight, ignore_index, reduction):
        every_sample_counts = check("nll_loss", logp, target, weight, ignore_index, reduction, 0.0,
                                    probabilities=False)
        return ctx.loss(logp._data, target, weight, ignore_index, reduction, 0.0, every_sample_counts)

    @staticmethod
    def backward(ctx, grad):
        a = Tensor.wrap(ctx.coefficients()[0], grad.device)
        return formula(lambda a, g: -a * ctx.upstream(g), a, grad), None, None, None, None


class CrossEntropy(_NegativeLogLikelihood):
    """loss_n = -sum_c a_nc log softmax(z_n)_c for logits z (N, C, d1, ...), with log p
    computed once, stably.   dL/dz = g_n (p A_n - a_n) (module docstring)."""

    @staticmethod
    def forward(ctx, logits, target, weight, ignore_index, reduction, label_smoothing):
        every_sample_counts = check("cross_entropy", logits, target, weight, ignore_index, reduction,
                                    label_smoothing, probabilities=True)
        logp = LogSoftmax.apply(logits, 1)        # recorded: the backward's softmax differentiates again
        ctx.save_for_backward(logp, target)
        return ctx.loss(logp._data, target, weight, ignore_index, reduction, label_smoothing, every_sample_counts)

    @staticmethod
    def backward(ctx, grad):
        logits = ctx.inputs[0]
        logp, target = ctx.saved_tensors
        needs_logits, needs_target = ctx.needs_input_grad[:2]
        p = logp.exp()
        nothing = (None,) * 4
        if not needs_target:                      # the coefficients are constants
            constants = [Tensor.wrap(array, logits.device) for array in ctx.coefficients() if array is not None]
            return (formula(lambda p, g, a, total=None: softmax_gradient(p, a, total, ctx.upstream(g)),
                            p, grad, *constants), None) + nothing
        # class probabilities that require grad: a, and so dL/dz, are functions of q
        xp, eps = logits.xp, ctx.eps
        w = Tensor.wrap(xp.ones((1,) + ctx.shape[1:2] + (1,) * (len(ctx.shape) - 2), logp.dtype)
                        if ctx.w is None else ctx.w, logits.device)

        def gradients(p, logp, q, w, g):
            g = ctx.upstream(g)
            a = probability_coefficients(q, w, eps, ctx.shape[1])
            dz = softmax_gradient(p, a, a.sum(axis=1, keepdims=True), g) if needs_logits else None
            return dz, -(logp * w) * (g * (1 - eps))

        return formula(gradients, p, logp, target, w, grad) + nothing


def check(function, input, target, weight, ignore_index, reduction, label_smoothing, probabilities):
    """The errors of ``function`` for input (N, C, d1, ...); class probabilities (a float
    target of the input's shape) only where ``probabilities``.  Returns whether every
    sample counts (no class-index target equals ignore_index)."""
    x, t = input._data, target._data              # (the arrays' attributes cost no Python call)
    if reduction not in REDUCTIONS:
        raise ValueError(f"{function}: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    if x.ndim < 2:
        raise ValueError(f"{function}: input must have shape (C,), (N, C) or (N, C, d1, ...), "
                         f"got {tuple(x.shape)}")
    if x.dtype.kind != "f":
        raise RuntimeError(f"{function}: input must be floating point, got {x.dtype}")
    if not 0 <= label_smoothing <= 1:
        raise ValueError(f"{function}: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    classes = x.shape[1]
    if weight is not None:
        if weight._data.shape != (classes,):
            raise ValueError(f"{function}: weight of shape {weight._data.shape} does not match the "
                             f"{classes} classes of input of shape {tuple(x.shape)}: expected ({classes},)")
        if weight.requires_grad:
            raise RuntimeError(f"{function}: the class weights get no gradient; pass weight.detach()")
    if probabilities and t.shape == x.shape:
        if t.dtype.kind != "f":
            raise RuntimeError(f"{function}: a target of the input's shape {tuple(x.shape)} holds class "
                               f"probabilities and must be floating point, got {t.dtype}")
        if ignore_index != -100:
            raise ValueError(f"{function}: ignore_index is for class-index targets, not probabilities")
        return True
    if t.dtype not in (target.xp.int64, target.xp.uint8):        # PyTorch's Long and Byte
        raise RuntimeError(f"{function}: target must hold class indices of dtype int64 or uint8, "
                           f"got {t.dtype}")
    expected = x.shape[:1] + x.shape[2:]
    if t.shape != expected:
        raise ValueError(f"{function}: target of shape {tuple(t.shape)} does not match input of shape "
                         f"{tuple(x.shape)}: expected {expected}")
    if target.device == backend.CPU and not 0 <= ignore_index < classes and (
            t.size == 0 or (t.min() >= 0 and t.max() < classes)):
        return True                 # the usual case, told by two reductions: every index is a class
    outside = (t < 0) | (t >= classes)
    bad = outside if 0 <= ignore_index < classes else outside & (t != ignore_index)   # ignore_index is allowed

    def out_of_bounds():
        value = backend.to_numpy(t[bad]).ravel()[0]
        return IndexError(f"{function}: target {int(value)} is out of bounds: class indices must "
                          f"be in [0, {classes}) for C = {classes} classes")

    # On the GPU the check is read back with the next result the host reads (no wait
    # per step), and the usual-case shortcut, which needs to know now, is not taken.
    backend.check_later(bad.any(), out_of_bounds)
    return target.device == backend.CPU and not outside.any() and not 0 <= ignore_index < classes
