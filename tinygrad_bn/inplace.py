"""In-place operations (``x += y``, ``x.add_(y)``, ``x[i] = v``) and the version counter.

An in-place operation writes its result into the tensor's own array, so
every view of it and every name bound to it sees the new values, as in
PyTorch: ``with tg.no_grad(): p -= lr * p.grad`` really updates ``p``.

Two rules keep gradients right:

* A leaf that requires grad may only be changed under ``no_grad``: it is the
  variable gradients are taken with respect to, so changing it inside a
  recorded computation has no meaning (PyTorch raises the same error).
* Every tensor carries a version counter, shared with the tensors that share
  its array (views, ``detach()``), and every in-place operation increments it.
  ``ctx.save_for_backward`` notes the version of what it saves, and
  ``ctx.saved_tensors`` compares: if ``y = x.sigmoid()`` is followed by
  ``y.mul_(2)``, the sigmoid's backward (which needs y) would read the wrong
  values, so backward raises instead of returning a wrong gradient.

When the tensor or the operand is part of a graph (and recording is on), the
operation is recorded: it is computed out of place on a stand-in that holds
the old values and the old place in the graph, then written into the tensor,
which becomes the output of the new node.  Views of tensors in a graph are
the exception: PyTorch rebuilds the base tensor's graph when a view of it is
changed; here that raises an error instead (docs/pytorch.md).
"""
import warnings

import numpy

from . import autograd, backend
from .autograd import is_grad_enabled, no_grad
from .tensor import Tensor, where


def modify(tensor, name, compute, *operands):
    """``tensor <- compute(tensor, *operands)``, in place; ``compute`` is the
    out-of-place operation written with Tensor ops.  Returns ``tensor``."""
    operands = tuple(o if isinstance(o, Tensor) else tensor._operand(o) for o in operands)
    recording = is_grad_enabled() and (tensor._requires_grad or any(o._requires_grad for o in operands))
    _check_allowed(tensor, name, recording)
    if recording:
        result = compute(_stand_in(tensor), *operands)
    else:
        with no_grad():
            result = compute(tensor, *operands)
    _write(tensor, result, name)
    if recording:
        retains = tensor.retains_grad        # it keeps retaining for the new value (PyTorch's rule);
        if retains:                          # its other hooks stay with the old value's node
            tensor.grad_fn._retained = None
        tensor.grad_fn, tensor._requires_grad = result.grad_fn, True
        if retains:
            autograd.retain_grad(tensor)
    tensor._version[0] += 1
    return tensor


def fill(tensor, name, value):
    """``tensor <- value`` (a number, a host array, or a Tensor moved to tensor's device
    and cast to its dtype), broadcast to tensor's shape; differentiable in a Tensor value."""
    if isinstance(value, Tensor):
        source = value.to(device=tensor.device, dtype=tensor.dtype)
    else:
        host = numpy.asarray(value, dtype=tensor.dtype)
        source = Tensor.wrap(backend.to_device(host, tensor.device), tensor.device)
    return modify(tensor, name, lambda old, new: where(True, new, old), source)


def set_items(tensor, index, value):
    """``tensor[index] = value``: a direct write, or the recorded op ``IndexPut``
    when the tensor or the value is part of a graph."""
    if not isinstance(value, Tensor):
        value = Tensor(value, device=tensor.device, dtype=tensor.dtype)
    value = value.to(device=tensor.device, dtype=tensor.dtype)
    if is_grad_enabled() and (tensor._requires_grad or value._requires_grad):
        return modify(tensor, "__setitem__", lambda old, v: ops.IndexPut.apply(old, index, v), value)
    tensor._data[index] = value._data
    tensor._version[0] += 1
    return tensor


def write_out(result, out, name):
    """A function's ``out=`` argument: ``result`` (a Tensor or a tuple of them) written into
    ``out`` (a Tensor or a tuple of as many), which is returned.  As in PyTorch, nothing
    that requires grad may take part while recording, and an ``out`` of another shape is
    resized (with a warning unless it was empty)."""
    results, outs = (result, out) if isinstance(result, tuple) else ((result,), (out,))
    if not isinstance(outs, tuple) or len(outs) != len(results) or not all(isinstance(o, Tensor) for o in outs):
        raise TypeError(f"{name}(): argument 'out' must be {'a tuple of ' + str(len(results)) + ' Tensors' if len(results) > 1 else 'a Tensor'}, "
                        f"got {type(out).__name__}")
    if is_grad_enabled() and any(t._requires_grad for t in results + outs):
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic "
                           f"differentiation, but one of the arguments requires grad.")
    for r, o in zip(results, outs):
        if r.device != o.device:
            raise RuntimeError(f"{name}(): expected out on {r.device}, got out on {o.device}")
        if r.shape != o.shape:
            if o.numel():
                warnings.warn(f"{name}(): an output with one or more elements was resized since it had shape "
                              f"{list(o.shape)}, which does not match the required output shape {list(r.shape)}",
                              UserWarning, stacklevel=3)
            _check_cast(r, o, name)
            o._data = r._data.astype(o.dtype)
        else:
            _write(o, r, name)
        o._version[0] += 1
    return out


def _check_allowed(tensor, name, recording):
    if not is_grad_enabled():
        return
    if tensor._requires_grad and tensor.grad_fn is None:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
    base = tensor._base
    if base is not None and base._requires_grad and base.grad_fn is None:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")
    if recording and len(tensor._version) > 1:
        raise RuntimeError(
            f"{name}: in-place operation on a tensor of shape {tuple(tensor.shape)} that is a view of another "
            f"tensor, or has views, while recording a graph: tinygrad_bn does not rebuild the graph of "
            f"the other tensor (PyTorch does); use the out-of-place operation, or clone() first")


def _stand_in(tensor):
    """A copy of tensor's current values that takes its place in the graph."""
    old = Tensor.wrap(tensor._data.copy(), tensor.device)
    old.grad_fn, old._requires_grad = tensor.grad_fn, tensor._requires_grad
    return old


def _write(tensor, result, name):
    if result.shape != tensor.shape:
        raise RuntimeError(f"{name}: output with shape {list(tensor.shape)} doesn't match the broadcast "
                           f"shape {list(result.shape)}")
    _check_cast(result, tensor, name)
    tensor._data[...] = result._data


def _check_cast(result, tensor, name):
    if result.dtype != tensor.dtype and not numpy.can_cast(result.dtype, tensor.dtype, "same_kind"):
        raise RuntimeError(f"{name}: result type {result.dtype} can't be cast to the desired output type "
                           f"{tensor.dtype}")


from . import ops  # noqa: E402
