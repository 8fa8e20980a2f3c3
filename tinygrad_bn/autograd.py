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
import weakref

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
        mode = self.mode

        def wrapper(*args, **kwargs):
            previous = _GradMode.enabled
            _GradMode.enabled = mode
            try:
                return fn(*args, **kwargs)
            finally:
                _GradMode.enabled = previous
        wrapper.__name__, wrapper.__doc__ = fn.__name__, fn.__doc__
        return wrapper


def no_grad():
    """Record nothing inside ``with tg.no_grad():`` (inference, parameter updates)."""
    return _SetGradMode(False)


def inference_mode(mode=True):
    """``no_grad`` under PyTorch's newer name (``with tg.inference_mode():``, or as a decorator).
    PyTorch's inference tensors, which refuse to enter a graph later, have no counterpart."""
    return _SetGradMode(not mode)


def is_inference_mode_enabled():
    """Whether recording is off (``inference_mode`` or ``no_grad``)."""
    return not _GradMode.enabled


def enable_grad():
    """Record again inside a ``no_grad`` block."""
    return _SetGradMode(True)


class set_grad_enabled(_SetGradMode):
    """Switch recording on or off, at once when called (``tg.set_grad_enabled(False)``)
    or for the body of a ``with tg.set_grad_enabled(training):`` block."""

    def __init__(self, mode):
        super().__init__(bool(mode))
        self.previous = _GradMode.enabled
        _GradMode.enabled = self.mode

    def __enter__(self):
        pass                      # already switched by the call


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
    _check_finite(node, [g._data for g in (grads if type(grads) is tuple else (grads,)) if g is not None],
                  "backward")
    return grads


_creation_order = itertools.count()   # numbers the recorded nodes: 0, 1, 2, ...


class Function:
    """A differentiable operation; its instances are the nodes of the graph (``ctx``).

    Subclasses define static ``forward(ctx, *args)``, which receives the Tensor
    arguments (and any non-Tensor ones, such as an axis) and returns the output
    array (or a Tensor made with ``Tensor.wrap``), and static
    ``backward(ctx, grad_output)``, which returns one gradient Tensor (or
    ``None``) per argument of ``forward``.  What backward needs of the inputs'
    values, forward keeps with ``ctx.save_for_backward``.

    A recorded node keeps ``next_functions``: per argument, where its gradient
    goes, fixed when the node is made (as in PyTorch): the node that made
    the argument, the argument itself when it is a leaf that requires grad,
    or None.  Later in-place changes to an argument do not re-route it.
    """

    inputs = None            # the arguments of forward; None once the graph is freed
    next_functions = ()
    _hooks = None            # the output tensor's gradient hooks (register_hook, retain_grad), if any
    _retained = None         # weak reference to the output tensor, if it retains its gradient
    _saved = ()
    _saved_versions = ()

    def save_for_backward(self, *tensors):
        """Keep tensors (inputs, the output, or plain arrays) for ``backward``.

        Each Tensor's version is noted: if an in-place operation changes it
        before backward reads it, ``saved_tensors`` raises instead of handing
        backward a value that is no longer the one forward saw.  (Nothing is
        kept when the node is not recorded: no backward will read it.)
        """
        if not self.next_functions:
            return
        self._saved = tensors
        versions = []
        for t in tensors:
            versions.append(t._version[0] if isinstance(t, Tensor) else None)
        self._saved_versions = versions

    @property
    def saved_tensors(self):
        """What forward saved, after checking that no in-place operation changed it."""
        saved = self._saved
        if saved is None:
            raise freed_graph_error(self)
        for t, version in zip(saved, self._saved_versions):
            if version is not None and t._version[0] != version:
                raise RuntimeError(modified_error(self, t, version))
        return saved

    needs_input_grad = ()     # per argument of forward: does a gradient flow to it? (set when recorded)

    @classmethod
    def apply(cls, *args):
        """Run ``forward`` and, if any input requires grad, record the node."""
        ctx = cls()
        ctx.inputs = args
        device = None
        record = False
        edges = []                   # where each argument's gradient will go
        needs = []                   # and whether it goes anywhere
        for a in args:
            if isinstance(a, Tensor):
                if device is None:
                    device = a.device
                elif a.device != device:
                    raise RuntimeError(f"{cls.__name__}: expected all tensors on the same device, "
                                       f"got {device} and {a.device}")
                if a._requires_grad:
                    record = True
                    edges.append(a if a.grad_fn is None else a.grad_fn)
                    needs.append(True)
                    continue
            edges.append(None)
            needs.append(False)
        record = record and _GradMode.enabled
        if record:
            ctx.next_functions = tuple(edges)
            ctx.needs_input_grad = tuple(needs)
        out = cls.forward(ctx, *args)
        if not isinstance(out, Tensor):
            out = Tensor.wrap(out, device)
        if _GradMode.anomaly:
            _check_finite(ctx, (out._data,), "forward")
        if record:
            ctx.sequence_nr = next(_creation_order)
            out.grad_fn = ctx
            out._requires_grad = True
        return out

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad_output):
        raise NotImplementedError


def modified_error(node, tensor, version):
    """The message for a saved tensor that an in-place operation changed after forward."""
    made_by = "" if tensor.grad_fn is None else f", made by {type(tensor.grad_fn).__name__},"
    return (f"one of the variables needed for gradient computation has been modified by an inplace "
            f"operation: the {tensor.dtype} tensor of shape {tuple(tensor.shape)}{made_by} that "
            f"{type(node).__name__} saved for its backward is at version {tensor._version[0]}; expected "
            f"version {version} instead. Change it after backward(), or use the out-of-place form "
            f"(x = x + y instead of x += y)")


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
    arrays = []
    for t in tensors:
        arrays.append(t._data)
    out = fn(*arrays)
    if type(out) is not tuple:
        return Tensor.wrap(out, device)
    grads = []
    for o in out:
        grads.append(None if o is None else Tensor.wrap(o, device))
    return tuple(grads)


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
    reversed, is a topological order (PyTorch orders ready nodes the same
    way, by ``sequence_nr``).  A heap keeps the waiting nodes; a node waits
    from the moment the first gradient for it arrives.

    With ``capture`` (a dict from the id of a leaf or of a node to None) the
    gradients reaching those leaves and node outputs are summed into the dict
    instead, no ``.grad`` is touched, and only the nodes that lead to a
    captured entry run (this is ``grad()``).
    """
    previous = _GradMode.enabled
    _GradMode.enabled = create_graph
    handed_out = {id(_memory_owner(grad._data))}   # arrays a new .grad must not share: the caller's gradient,
    try:                                          # and each one already given to a leaf in this pass
        if root.grad_fn is None:             # the root is itself a leaf
            grad = _run_leaf_hooks(root, grad)
            if capture is None:
                _accumulate(root, grad, create_graph, handed_out)
            elif id(root) in capture:
                capture[id(root)] = grad
            return
        node = root.grad_fn
        needed = None if capture is None else _nodes_leading_to(node, capture)
        pending = {node: grad}               # node -> gradient of its output, summed so far
        ready = [(-node.sequence_nr, node)]  # heap: the most recently created node first
        hooked_leaves = {}                   # leaf with hooks -> its gradient, summed until the end
        while ready:
            node = heapq.heappop(ready)[1]
            grad_out = pending.pop(node)
            if node._hooks is not None and (capture is None or node in needed or id(node) in capture):
                grad_out = _run_output_hooks(node, grad_out, create_graph, handed_out)  # its gradient is complete
            if capture is not None:
                if id(node) in capture:
                    capture[id(node)] = grad_out
                if node not in needed:
                    continue
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
            for a, edge, g in zip(inputs, node.next_functions, grads):
                if g is None or edge is None:
                    continue
                if g._data.shape != a._data.shape or g._data.dtype != a._data.dtype:
                    g = _fit_to_input(node, g, a)
                if isinstance(edge, Tensor):   # a leaf: its .grad accumulates
                    if edge._hooks:
                        hooked_leaves[edge] = _add(hooked_leaves.get(edge), g, create_graph)
                    elif capture is None:
                        _accumulate(edge, g, create_graph, handed_out)
                    elif id(edge) in capture:
                        capture[id(edge)] = _add(capture[id(edge)], g, create_graph)
                elif edge in pending:        # another use of a reported already: sum
                    pending[edge] = _add(pending[edge], g, create_graph)
                else:                        # first gradient for this node: schedule it
                    pending[edge] = g
                    heapq.heappush(ready, (-edge.sequence_nr, edge))
            if not retain_graph:
                node.inputs = None
                node._saved = None
        for leaf, g in hooked_leaves.items():   # a leaf's hooks see the sum of all its gradients
            g = _run_leaf_hooks(leaf, g)
            if capture is None:
                _accumulate(leaf, g, create_graph, handed_out)
            elif id(leaf) in capture:
                capture[id(leaf)] = g
    finally:
        _GradMode.enabled = previous


# ------------------------------------------------------------------ tensor hooks
def hooks_of(tensor):
    """The ordered registry of ``tensor``'s gradient hooks, made on first use: a leaf
    keeps it itself, a computed tensor on the node that made it (so the hooks see the
    gradient of the value that node produced, even after an in-place change)."""
    if tensor.grad_fn is None:
        if tensor._hooks is None:
            tensor._hooks = {}
        return tensor._hooks
    node = tensor.grad_fn
    if node._hooks is None:
        node._hooks = {}
    return node._hooks


def retain_grad(tensor):
    """Keep the gradient of computed ``tensor`` in its ``.grad`` at every backward (after its hooks)."""
    node = tensor.grad_fn
    hooks_of(tensor)
    node._retained = weakref.ref(tensor)


def _apply_hooks(hooks, grad):
    """Each hook in turn; one that returns a Tensor replaces the gradient, which must
    keep its shape, dtype and device (PyTorch's messages)."""
    for hook in list(hooks.values()):
        result = hook(grad)
        if result is None:
            continue
        name = getattr(hook, "__name__", type(hook).__name__)
        if not isinstance(result, Tensor):
            raise TypeError(f"hook '{name}' returned a {type(result).__name__}; expected a Tensor or None")
        if result.shape != grad.shape:
            raise RuntimeError(f"hook '{name}' has changed the size of value (was {tuple(grad.shape)}, "
                               f"got {tuple(result.shape)})")
        if result.dtype != grad.dtype or result.device != grad.device:
            raise RuntimeError(f"hook '{name}' has changed the type of value (was {grad.dtype} on "
                               f"{grad.device}, got {result.dtype} on {result.device})")
        grad = result
    return grad


def _run_leaf_hooks(leaf, grad):
    return _apply_hooks(leaf._hooks, grad) if leaf._hooks else grad


def _run_output_hooks(node, grad, create_graph, handed_out):
    """The hooks of the tensor ``node`` made, then its retained ``.grad``, which
    accumulates as a leaf's does (in ``grad()`` too, as in PyTorch)."""
    grad = _apply_hooks(node._hooks, grad)
    tensor = None if node._retained is None else node._retained()
    if tensor is not None:
        _accumulate(tensor, grad, create_graph, handed_out)
    return grad


def _nodes_leading_to(root_node, wanted):
    """The nodes from which a path of edges reaches a leaf or node whose id is in
    ``wanted``: the only ones ``grad()`` has to run.  (A requested non-leaf input's
    own node is not among them unless something behind it is requested too.)"""
    nodes, seen, stack = [], set(), [root_node]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        nodes.append(node)
        stack.extend(e for e in node.next_functions if e is not None and not isinstance(e, Tensor))
    needed = set()
    for node in sorted(nodes, key=lambda n: n.sequence_nr):     # edges point to older nodes
        if any(e is not None and (id(e) in wanted or (not isinstance(e, Tensor) and e in needed))
               for e in node.next_functions):
            needed.add(node)
    return needed


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """The gradients of ``outputs`` with respect to ``inputs``, returned as a tuple, not stored.

    Like ``torch.autograd.grad``: no ``.grad`` attribute is touched, and only
    the part of the graph between ``outputs`` and ``inputs`` runs (a non-leaf
    input's own history is neither run nor freed).  With
    ``create_graph=True`` the returned gradients are themselves part of a
    graph and can be differentiated again.
    """
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    if not outputs.requires_grad:
        raise RuntimeError("grad(): the output does not require grad")
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(f"grad(): input {i} does not require grad")
    if grad_outputs is None:
        if outputs._data.size != 1:
            raise RuntimeError(f"grad(): grad_outputs is needed for an output of shape {tuple(outputs.shape)}")
        grad_outputs = Tensor.wrap(outputs.xp.ones_like(outputs._data), outputs.device)
    elif grad_outputs.shape != outputs.shape:
        raise RuntimeError(f"grad(): grad_outputs has shape {tuple(grad_outputs.shape)}, "
                           f"expected the output's {tuple(outputs.shape)}")
    keys = [id(t if t.grad_fn is None else t.grad_fn) for t in inputs]
    capture = dict.fromkeys(keys)
    backward(outputs, grad_outputs, create_graph if retain_graph is None else retain_graph,
             create_graph, capture)
    result = []
    for i, (t, key) in enumerate(zip(inputs, keys)):
        g = capture[key]
        if g is None and not allow_unused:
            raise RuntimeError(f"grad(): input {i} (shape {tuple(t.shape)}) was not used to compute the "
                               f"output; pass allow_unused=True to get None for it")
        if g is not None and (g._data.shape != t._data.shape or g._data.dtype != t._data.dtype):
            g = reduce_to(g, t)
        result.append(g)
    return tuple(result)


def _fit_to_input(node, g, a):
    """A gradient with a broadcast shape or another dtype than input ``a``, summed over
    the broadcast axes and cast to ``a``'s dtype (as PyTorch's engine does), so an op's
    backward can return the plain formula.  Any other shape is a bug in that backward."""
    shape, target = a._data.shape, g._data.shape
    if len(shape) > len(target) or any(n not in (1, m) for n, m in zip(shape[::-1], target[::-1])):
        raise RuntimeError(f"{type(node).__name__}.backward returned a gradient of shape {tuple(g.shape)} "
                           f"for an input of shape {tuple(a.shape)}")
    return reduce_to(g, a)


def _accumulate(leaf, g, create_graph, handed_out):
    """leaf.grad += g.

    The first gradient gets a Tensor of the leaf's own around g's array, or
    around a copy where that array is the caller's gradient or already another
    leaf's (an op such as + hands the same gradient to both inputs): an
    in-place change of one ``.grad`` (``w.grad.zero_()``) must not reach
    another tensor, as in PyTorch, and ``handed_out`` (ids of the arrays' memory
    owners) tells.  Later gradients are added into that Tensor, which keeps its
    identity (as PyTorch's ``.grad`` does) while its array is replaced by the
    sum: the engine itself never writes into an array.  Under ``create_graph``
    (or when the gradient is itself part of a graph) the sum is a recorded
    operation instead.
    """
    held = leaf._grad
    if held is None:
        array = g._data
        owner = id(array if array.base is None else array.base)       # _memory_owner, without a call
        if owner in handed_out:
            g = g.clone() if create_graph else Tensor.wrap(g._data.copy(), g.device)
        else:
            handed_out.add(owner)
    if create_graph or (held is not None and held.requires_grad):
        leaf._grad = _add(held, g, create_graph)
    elif held is None:
        leaf._grad = Tensor.wrap(g._data, g.device)
    else:
        total = held._data + g._data
        held._data = total if total.ndim else held.xp.asarray(total)    # NumPy: 0-d sums are scalars


def _add(total, g, create_graph):
    """total + g for gradients arriving along several paths; out of place (the
    library never writes into a gradient), recorded only under ``create_graph``."""
    if total is None:
        return g
    if create_graph:
        return total + g
    return Tensor.wrap(total._data + g._data, total.device)


from .tensor import Tensor, _memory_owner  # noqa: E402  (tensor.py imports this module)
from .ops.shape import reduce_to  # noqa: E402
