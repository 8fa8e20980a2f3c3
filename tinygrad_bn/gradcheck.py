"""Checking analytic gradients against numerical ones.

For a function f and a random upstream gradient u, autograd computes the
vector-Jacobian product  v = u^T J  (J = df/dx) in one backward pass.  The same
vector can be estimated without autograd, one element of x at a time, by
central differences of the scalar s(x) = sum(u * f(x)):

    v_j  ~  (s(x + eps e_j) - s(x - eps e_j)) / (2 eps)      (error O(eps^2))

``gradcheck`` compares the two in float64.  A random u matters: with u = 1
(a plain ``sum()``), any gradient that happens to sum to zero, such as
BatchNorm's input gradient, would pass as zero.  ``gradgradcheck`` applies the
same test to the backward pass itself (second derivatives).
"""
import numpy

from . import backend
from .autograd import grad
from .ops import concatenate
from .tensor import Tensor


class GradcheckError(AssertionError):
    """The analytic and numerical gradients disagree (or the check could prove nothing).

    Where they disagree, ``input_index``, ``element``, ``analytic``, ``numerical``
    and ``differing`` (how many elements) say where and by how much, for code
    that reports the failure in its own words; they are None otherwise.
    """

    def __init__(self, message, input_index=None, element=None, analytic=None, numerical=None, differing=None):
        super().__init__(message)
        self.input_index, self.element = input_index, element
        self.analytic, self.numerical, self.differing = analytic, numerical, differing


def _as_tuple(inputs):
    return (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)


def _random_like(t, rng):
    draw = rng.standard_normal(t.shape)
    return Tensor.wrap(backend.to_device(draw.astype(t.dtype), t.device), t.device)


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, grad_output=None, allow_zero=False, seed=0):
    """Check autograd's gradients of ``fn(*inputs)`` against central differences.

    Every input that requires grad must be float64.  ``grad_output`` (default:
    a standard normal draw, seeded by ``seed``) is the upstream gradient u.
    Element j of input i passes when |analytic - numerical| <= atol + rtol *
    |numerical|.  Raises GradcheckError naming the input, the element and both
    values on the first failure; also when every gradient is ~0, because such
    a check proves nothing (unless ``allow_zero=True``).  Returns True.
    """
    inputs = _as_tuple(inputs)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad, nothing to check")
    for i in checked:
        if inputs[i].dtype != numpy.float64:
            raise ValueError(f"gradcheck: input {i} is {inputs[i].dtype}; central differences need "
                             f"float64 (use .double())")
    out = fn(*inputs)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    rng = numpy.random.default_rng(seed)
    u = _random_like(out, rng) if grad_output is None else grad_output
    if out.requires_grad:
        analytic = grad(out, [inputs[i] for i in checked], u, allow_unused=True)
    else:
        analytic = [None] * len(checked)
    u_host = backend.to_numpy(u._data)

    def objective():
        value = fn(*inputs)      # with recording on: fn may itself differentiate (gradgradcheck)
        return float((backend.to_numpy(value._data) * u_host).sum())

    anything_nonzero = False
    for i, a in zip(checked, analytic):
        x = inputs[i]
        a_host = numpy.zeros(x.shape) if a is None else backend.to_numpy(a._data)
        numeric = numpy.zeros(x.shape)
        for j in numpy.ndindex(*x.shape):
            original = x._data[j].copy()
            x._data[j] = original + eps
            plus = objective()
            x._data[j] = original - eps
            minus = objective()
            x._data[j] = original
            numeric[j] = (plus - minus) / (2 * eps)
        bad = numpy.abs(a_host - numeric) > atol + rtol * numpy.abs(numeric)
        if bad.any():
            j = tuple(int(k) for k in numpy.argwhere(bad)[0])
            analytic, numerical = float(a_host[j]), float(numeric[j])
            raise GradcheckError(
                f"gradcheck: gradient of input {i} (shape {tuple(x.shape)}) is wrong at element {j}: "
                f"analytic {analytic!r}, numerical {numerical!r} "
                f"({int(bad.sum())} of {bad.size} elements differ)",
                input_index=i, element=j, analytic=analytic, numerical=numerical, differing=int(bad.sum()))
        if numpy.abs(a_host).max(initial=0) > atol or numpy.abs(numeric).max(initial=0) > atol:
            anything_nonzero = True
    if not anything_nonzero and not allow_zero:
        raise GradcheckError("gradcheck: analytic and numerical gradients are ~0 for every input, "
                             "so the check proves nothing; pass allow_zero=True if that is expected")
    return True


def gradgradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, allow_zero=False, seed=0):
    """Check second derivatives: gradcheck of the backward pass of ``fn``.

    The backward pass with upstream gradient u, g(x, u) = u^T df/dx, is built
    with ``create_graph=True`` and checked as a function of both x and u.
    """
    inputs = _as_tuple(inputs)
    checked = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    out = fn(*inputs)
    rng = numpy.random.default_rng(seed + 1)
    u = _random_like(out, rng).requires_grad_()

    def first_derivatives(*args):
        *xs, u_ = args
        out_ = fn(*xs)
        wanted = [x for x in xs if isinstance(x, Tensor) and x.requires_grad]
        grads = grad(out_, wanted, u_, create_graph=True, allow_unused=True)
        flat = [(g if g is not None else Tensor.wrap(x.xp.zeros(x.shape, x.dtype), x.device)).reshape(-1)
                for g, x in zip(grads, wanted)]
        return concatenate(flat) if flat else None

    if not checked:
        raise ValueError("gradgradcheck: no input requires grad, nothing to check")
    return gradcheck(first_derivatives, tuple(inputs) + (u,), eps=eps, atol=atol, rtol=rtol,
                     allow_zero=allow_zero, seed=seed)
