"""Reverse-mode automatic differentiation: Function, the graph, backward.

Every differentiable operation is a subclass of :class:`Function` with two
static methods side by side::

    forward(ctx, *inputs)       computes the output from the input arrays
    backward(ctx, grad_output)  returns one gradient per input

Calling ``MyOp.apply(*inputs)`` runs ``forward`` and, when an input requires a
gradient, records a *node*: the ``ctx`` object itself, which remembers its
inputs and whatever ``forward`` saved.  The output tensor points to that node
through ``grad_fn``; the nodes and the tensors between them form a directed
acyclic graph that ends in the leaves (tensors the user created).

``backward`` walks that graph from the output to the leaves in reverse
topological order, and at each node turns the gradient of the output into
gradients of the inputs: a vector-Jacobian product, ``grad_input =
grad_output @ d output / d input``.  Gradients that reach a tensor along
several paths are summed (the multivariate chain rule).

``backward`` methods are written with Tensor operations.  Normally they run
with gradient recording switched off, so they cost no more than array code;
with ``create_graph=True`` they are recorded like any forward computation,
which is what makes second derivatives possible.
"""
import heapq
import itertools

from . import backend


class _GradMode:
    enabled = True      # record graphs?
    anomaly = False     # check every forward and backward for NaN/Inf?


def is_grad_enabled():
    """Whether operations on tensors that require grad are recorded."""
    return _GradMode.enabled


class _SetGradMode:
    """Context manager and decorator that sets the recording mode for its body."""

    def __init__(self, mode):
        self.mode = mode

    def __enter__(self):
        self.previous = _GradMode.enabled
        _GradMode.enabled = self.mode

    def __exit__(self, *exc):
        _GradMode.enabled = self.previous

    def __call__(self, fn):
        def wrapper(*args, **kwargs):
            with _SetGradMode(self.mode):
                return fn(*args, **kwargs)
        wrapper.__name__, wrapper.__doc__ = fn.__name__, fn.__doc__
        return wrapper


def no_grad():
    """Record nothing inside ``with tg.no_grad():`` (inference, parameter updates)."""
    return _SetGradMode(False)


def enable_grad():
    """Record again inside a ``no_grad`` block."""
    return _SetGradMode(True)


class detect_anomaly:
    """Inside ``with tg.detect_anomaly():`` the first operation whose forward or
    backward produces NaN or Inf raises an error naming it and its input shapes."""

    def __enter__(self):
        self.previous = _GradMode.anomaly
        _GradMode.anomaly = True

    def __exit__(self, *exc):
        _GradMode.anomaly = self.previous


class AnomalyError(RuntimeError):
    """A NaN or Inf appeared in a forward or backward pass under ``detect_anomaly``."""


def _check_finite(node, arrays, where):
    for array in arrays:
        if array is not None and array.dtype.kind == "f" and not bool(backend.xp_of(backend.device_of(array)).isfinite(array).all()):
            shapes = ", ".join(str(tuple(t.shape)) for t in node.inputs if isinstance(t, Tensor))
            raise AnomalyError(f"{type(node).__name__} produced NaN or Inf in its {where} "
                               f"(input shapes: {shapes})")


def _backward_checked(node, grad_output):
    """``node``'s backward under ``detect_anomaly``: the ops it runs are not
    checked one by one, so a NaN/Inf is blamed on ``node`` (e.g. Sqrt at 0),
    not on the Div inside its backward formula."""
    _GradMode.anomaly = False
    try:
        grads = type(node).backward(node, grad_output)
    finally:
        _GradMode.anomaly = True
    _check_finite(node, [g.data for g in (grads if type(grads) is tuple else (grads,)) if g is not None],
                  "backward")
    return grads


_creation_order = itertools.count()   # numbers the recorded nodes: 0, 1, 2, ...


class Function:
    """A differentiable operation; its instances are the nodes of the graph (``ctx``).

    Subclasses define static ``forward(ctx, *args)``, which receives the Tensor
    arguments (and any non-Tensor ones, such as an axis) and returns the output
    array (or a Tensor made with ``Tensor.wrap``), and static
    ``backward(ctx, grad_output)``, which returns one gradient Tensor (or
    ``None``) per argument of ``forward``.
    """

    inputs = None            # the arguments of forward; None once the graph is freed
    saved_tensors = ()

    def save_for_backward(self, *tensors):
        """Keep tensors (inputs, or the output) for ``backward``."""
        self.saved_tensors = tensors

    @property
    def needs_input_grad(self):
        """Per argument of forward: is it a Tensor that requires a gradient?"""
        return tuple([isinstance(a, Tensor) and a.requires_grad for a in self.inputs])

    @classmethod
    def apply(cls, *args):
        """Run ``forward`` and, if any input requires grad, record the node."""
        ctx = cls()
        ctx.inputs = args
        device = None
        record = False
        for a in args:
            if isinstance(a, Tensor):
                if a.requires_grad:
                    record = True
                if device is None:
                    device = a.device
                elif a.device != device:
                    raise RuntimeError(f"{cls.__name__}: expected all tensors on the same device, "
                                       f"got {device} and {a.device}")
        out = cls.forward(ctx, *args)
        if not isinstance(out, Tensor):
            out = Tensor.wrap(out, device)
        if _GradMode.anomaly:
            _check_finite(ctx, (out.data,), "forward")
        if record and _GradMode.enabled:
            ctx.sequence_nr = next(_creation_order)
            out.grad_fn = ctx
            out.requires_grad = True
        return out

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad_output):
        raise NotImplementedError


def formula(fn, *tensors):
    """``fn(*tensors)`` for a backward pass: one formula, two ways to run it.

    Under ``create_graph`` (recording on) it runs on the Tensors, so the
    gradient it returns is itself differentiable.  Otherwise it runs straight
    on their arrays and the results are wrapped: the same arithmetic without
    the cost of a recorded op per ``*`` and ``-``.  ``fn`` must only use what
    arrays and Tensors share (arithmetic, ``@``, ``.T``, ``sum``, ``reshape``).
    """
    if _GradMode.enabled:
        return fn(*tensors)
    device = tensors[0].device
    out = fn(*[t.data for t in tensors])
    if isinstance(out, tuple):
        return tuple([None if o is None else Tensor.wrap(o, device) for o in out])
    return Tensor.wrap(out, device)


def freed_graph_error(node):
    """The error for a node whose saved tensors an earlier backward freed."""
    return RuntimeError(
        f"trying to backward through the graph a second time: the saved tensors of "
        f"{type(node).__name__} were freed by the first backward. Pass retain_graph=True "
        f"to the first backward() if you need to call it twice")


def backward(root, grad, retain_graph=False, create_graph=False, capture=None):
    """Accumulate d root / d leaf, weighted by ``grad``, into every leaf's ``.grad``.

    Nodes run newest first.  A node is always created after the nodes that
    made its inputs, so when the newest waiting node runs, every node that
    uses its output has run and its gradient is complete: creation order,
    reversed, is a topological order (PyTorch orders its engine the same way,
    by ``sequence_nr``).  A heap keeps the waiting nodes; a node waits from the
    moment the first gradient for it arrives.

    With ``capture`` (a dict ``{id(tensor): None}``) the gradients of those
    tensors are summed into the dict instead, and no ``.grad`` is touched
    (this is ``grad()``).
    """
    previous = _GradMode.enabled
    _GradMode.enabled = create_graph
    try:
        if root.grad_fn is None:             # the root is itself a leaf
            if capture is None:
                _accumulate(root, grad, create_graph)
            elif id(root) in capture:
                capture[id(root)] = grad
            return
        node = root.grad_fn
        pending = {node: grad}               # node -> gradient of its output, summed so far
        ready = [(-node.sequence_nr, node)]  # heap: the most recently created node first
        if capture is not None and id(root) in capture:
            capture[id(root)] = grad
        while ready:
            node = heapq.heappop(ready)[1]
            grad_out = pending.pop(node)
            inputs = node.inputs
            if inputs is None:
                raise freed_graph_error(node)
            if _GradMode.anomaly:
                grads = _backward_checked(node, grad_out)
            else:
                grads = type(node).backward(node, grad_out)
            if type(grads) is not tuple:
                grads = (grads,)
            if len(grads) != len(inputs):
                raise RuntimeError(f"{type(node).__name__}.backward returned {len(grads)} gradients, "
                                   f"expected {len(inputs)} (one per input of forward)")
            for a, g in zip(inputs, grads):
                if g is None or not isinstance(a, Tensor) or not a.requires_grad:
                    continue
                if g.data.shape != a.data.shape or g.data.dtype != a.data.dtype:
                    g = _fit_to_input(node, g, a)
                if capture is not None and id(a) in capture:
                    capture[id(a)] = _add(capture[id(a)], g, create_graph)
                maker = a.grad_fn
                if maker is None:            # a leaf: its .grad accumulates
                    if capture is None:
                        _accumulate(a, g, create_graph)
                elif maker in pending:       # another use of a reported already: sum
                    pending[maker] = _add(pending[maker], g, create_graph)
                else:                        # first gradient for this node: schedule it
                    pending[maker] = g
                    heapq.heappush(ready, (-maker.sequence_nr, maker))
            if not retain_graph:
                node.inputs = None
                node.saved_tensors = None
    finally:
        _GradMode.enabled = previous


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """The gradients of ``outputs`` with respect to ``inputs``, returned as a tuple, not stored.

    Like ``torch.autograd.grad``: no ``.grad`` attribute is touched.  With
    ``create_graph=True`` the returned gradients are themselves part of a
    graph and can be differentiated again.
    """
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    if not outputs.requires_grad:
        raise RuntimeError("grad(): the output does not require grad")
    if grad_outputs is None:
        if outputs.data.size != 1:
            raise RuntimeError(f"grad(): grad_outputs is needed for an output of shape {outputs.shape}")
        grad_outputs = Tensor.wrap(outputs.xp.ones_like(outputs.data), outputs.device)
    elif grad_outputs.shape != outputs.shape:
        raise RuntimeError(f"grad(): grad_outputs has shape {grad_outputs.shape}, "
                           f"expected the output's {outputs.shape}")
    capture = {id(t): None for t in inputs}
    backward(outputs, grad_outputs, create_graph if retain_graph is None else retain_graph,
             create_graph, capture)
    result = []
    for i, t in enumerate(inputs):
        g = capture[id(t)]
        if g is None and not allow_unused:
            raise RuntimeError(f"grad(): input {i} (shape {t.shape}) was not used to compute the "
                               f"output; pass allow_unused=True to get None for it")
        result.append(g)
    return tuple(result)


def _fit_to_input(node, g, a):
    """A gradient with a broadcast shape or another dtype than input ``a``, summed over
    the broadcast axes and cast to ``a``'s dtype (as PyTorch's engine does), so an op's
    backward can return the plain formula.  Any other shape is a bug in that backward."""
    shape, target = a.data.shape, g.data.shape
    if len(shape) > len(target) or any(n not in (1, m) for n, m in zip(shape[::-1], target[::-1])):
        raise RuntimeError(f"{type(node).__name__}.backward returned a gradient of shape {g.shape} "
                           f"for an input of shape {a.shape}")
    return reduce_to(g, a)


def _accumulate(leaf, g, create_graph):
    """leaf.grad += g.

    The first gradient gets a Tensor of the leaf's own around g's array; later
    ones are added into that Tensor, which keeps its identity (as PyTorch's
    ``.grad`` does) while its array is replaced by the sum: no array is ever
    written into.  Under ``create_graph`` (or when the gradient is itself part
    of a graph) the sum is a recorded operation instead.
    """
    held = leaf._grad
    if create_graph or (held is not None and held.requires_grad):
        leaf._grad = _add(held, g, create_graph)
    elif held is None:
        leaf._grad = Tensor.wrap(g.data, g.device)
    else:
        total = held.data + g.data
        held.data = total if total.ndim else held.xp.asarray(total)    # NumPy: 0-d sums are scalars


def _add(total, g, create_graph):
    """total + g for gradients arriving along several paths; out of place (the
    library never writes into a gradient), recorded only under ``create_graph``."""
    if total is None:
        return g
    if create_graph:
        return total + g
    return Tensor.wrap(total.data + g.data, total.device)


from .tensor import Tensor  # noqa: E402  (tensor.py imports this module)
from .ops.shape import reduce_to  # noqa: E402
