"""Tensor methods made of other Tensor methods: no op, no backward of their own.

Each is a few lines of existing differentiable operations (indexing, ``where``,
products, reductions), so its gradient is the chain rule through them and it
differentiates to any order; the docstring says what it computes.  ``Tensor``
inherits them from :class:`CompositeMethods`.

    tril / triu     where(mask, x, 0), the mask of the lower / upper triangle
    diagonal        x[..., i, i + offset] over the last two of a permuted order
    diag            the diagonal of a matrix, or a matrix with a vector on it
    trace           sum of the diagonal
    flip / roll     indexing with reversed / rotated positions
    select, unbind  indexing with an int
    unflatten       a reshape of one dim into several
    narrow, take, masked_select, repeat_interleave, tile, movedim   indexing and permutes
    median          a gather at the middle of argsort
    lerp, addcmul, addcdiv, xlogy, logit, nan_to_num, nansum, nanmean   their formulas
    outer, dot, bmm products with their shapes checked
    logsumexp       m + log sum exp(x - m), m the (constant) maximum
    new_*           new tensors with this one's dtype and device

three questions with integer answers, never differentiated: ``nonzero``,
``argwhere`` and ``unique``, and the memory layout: ``is_contiguous``, ``stride``,
``element_size``, ``itemsize``, ``nbytes``.
"""
import math
import numbers

import numpy

from . import return_types
from .dims import canonical_dim, canonical_dims


class CompositeMethods:
    __slots__ = ()

    # ------------------------------------------------------------ triangles and diagonals
    def _triangle(self, diagonal, lower, name):
        if self.ndim < 2:
            raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions, got shape {tuple(self.shape)}")
        rows, cols = self.shape[-2:]
        xp = self.xp
        mask = xp.tri(rows, cols, diagonal, dtype=bool) if lower else ~xp.tri(rows, cols, diagonal - 1, dtype=bool)
        return self.where(type(self).wrap(mask, self.device), 0)

    def tril(self, diagonal=0):
        """The lower triangle of the last two dims: elements with col - row <= diagonal, the rest 0."""
        return self._triangle(diagonal, True, "tril")

    def triu(self, diagonal=0):
        """The upper triangle: elements with col - row >= diagonal, the rest 0."""
        return self._triangle(diagonal, False, "triu")

    def diagonal(self, offset=0, dim1=0, dim2=1):
        """The elements x[..., i, i + offset] of the plane (dim1, dim2), as a new last dim
        (torch.diagonal; here a copy, not a view)."""
        dim1, dim2 = canonical_dim(dim1, self.ndim), canonical_dim(dim2, self.ndim)
        if dim1 == dim2:
            raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
        rest = [d for d in range(self.ndim) if d not in (dim1, dim2)]
        plane = self.permute(rest + [dim1, dim2])
        rows, cols = plane.shape[-2:]
        start_row, start_col = max(-offset, 0), max(offset, 0)
        length = max(min(rows - start_row, cols - start_col), 0)
        steps = numpy.arange(length)
        return plane[..., steps + start_row, steps + start_col]

    def diag(self, diagonal=0):
        """A matrix's ``diagonal``-th diagonal (a vector), or for a vector v the square
        matrix with v on that diagonal and 0 elsewhere (torch.diag)."""
        if self.ndim == 2:
            return self.diagonal(diagonal)
        if self.ndim != 1:
            raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {self.ndim}D")
        n = self.shape[0] + abs(diagonal)
        steps = numpy.arange(self.shape[0])
        rows, cols = steps + max(-diagonal, 0), steps + max(diagonal, 0)
        out = self.new_zeros((n, n))
        out[rows, cols] = self            # recorded when self is in a graph: the gradient is the diagonal
        return out

    def trace(self):
        """The sum of a matrix's diagonal."""
        if self.ndim != 2:
            raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {self.ndim}")
        return self.diagonal().sum()

    # ------------------------------------------------------------ rearranging
    def flip(self, *dims):
        """The order of the elements reversed along each of ``dims``."""
        axes = canonical_dims(dims[0] if len(dims) == 1 else dims, self.ndim)
        return self[tuple(slice(None, None, -1) if d in axes else slice(None) for d in range(self.ndim))]

    def fliplr(self):
        """Reversed along dim 1 (left-right)."""
        return self.flip(1)

    def flipud(self):
        """Reversed along dim 0 (up-down)."""
        return self.flip(0)

    def roll(self, shifts, dims=None):
        """Elements moved ``shifts`` places along ``dims``, those past the end coming
        back at the start; without dims, over the flattened tensor, shape kept."""
        if dims is None:
            return self.flatten().roll(shifts, 0).reshape(self.shape)
        shifts = (shifts,) if isinstance(shifts, numbers.Integral) else tuple(shifts)
        dims = (dims,) if isinstance(dims, numbers.Integral) else tuple(dims)
        if len(shifts) != len(dims):
            raise RuntimeError(f"roll: shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
        out = self
        for shift, dim in zip(shifts, dims):
            axis = canonical_dim(dim, self.ndim)
            n = self.shape[axis]
            if n:
                positions = (numpy.arange(n) - shift) % n
                out = out[(slice(None),) * axis + (positions,)]
        return out

    def unflatten(self, dim, sizes):
        """Dim ``dim`` split into ``sizes`` (one of them may be -1), as ``torch.unflatten``."""
        axis = canonical_dim(dim, self.ndim)
        sizes = tuple(sizes)
        if sizes.count(-1) > 1:
            raise RuntimeError("unflatten: only one dimension can be inferred (-1)")
        known = 1
        for n in sizes:
            known *= n if n != -1 else 1
        extent = self.shape[axis]
        if -1 in sizes:
            if known == 0 or extent % known:
                raise RuntimeError(f"unflatten: sizes {list(sizes)} don't multiply up to the size of dim {dim} "
                                   f"({extent}) in the input tensor")
            sizes = tuple(extent // known if n == -1 else n for n in sizes)
        elif known != extent:
            raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} "
                               f"({extent}) in the input tensor")
        return self.reshape(self.shape[:axis] + sizes + self.shape[axis + 1:])

    def select(self, dim, index):
        """The slice at ``index`` along ``dim``, that dim removed (x.select(0, i) is x[i])."""
        return self[(slice(None),) * canonical_dim(dim, self.ndim) + (index,)]

    def unbind(self, dim=0):
        """All the slices along ``dim``, as a tuple."""
        axis = canonical_dim(dim, self.ndim)
        return tuple(self.select(axis, i) for i in range(self.shape[axis]))

    def narrow(self, dim, start, length):
        """The ``length`` slices from ``start`` along ``dim`` (a negative start counts from the end)."""
        axis = canonical_dim(dim, self.ndim)
        size = self.shape[axis]
        if start < 0:
            start += size
        if not 0 <= start <= size or length < 0 or start + length > size:
            raise IndexError(f"narrow(): start ({start}) + length ({length}) exceeds dimension size ({size}).")
        return self[(slice(None),) * axis + (slice(start, start + length),)]

    def movedim(self, source, destination):
        """Dims ``source`` (an int or a sequence) moved to positions ``destination``, the others
        keeping their order, as ``numpy.moveaxis``."""
        sources = [source] if isinstance(source, numbers.Integral) else list(source)
        targets = [destination] if isinstance(destination, numbers.Integral) else list(destination)
        if len(sources) != len(targets):
            raise RuntimeError(f"movedim: Invalid source or destination dims: source ({sources} dims) should "
                               f"contain the same number of dims as destination ({targets} dims)")
        sources = [canonical_dim(d, self.ndim) for d in sources]
        targets = [canonical_dim(d, self.ndim) for d in targets]
        order = [d for d in range(self.ndim) if d not in sources]
        for target, source_dim in sorted(zip(targets, sources)):
            order.insert(target, source_dim)
        return self.permute(order)

    moveaxis = movedim

    def swapdims(self, dim0, dim1):
        return self.transpose(dim0, dim1)

    def tile(self, *dims):
        """Repeated ``dims[i]`` times along each dim, ones prepended to ``dims`` when it is
        shorter than the shape (``repeat`` wants one count per dim or more)."""
        dims = tuple(dims[0]) if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
        return self.repeat((1,) * (self.ndim - len(dims)) + tuple(dims))

    def repeat_interleave(self, repeats, dim=None):
        """Each element (or each slice along ``dim``) repeated ``repeats`` times in place,
        [a, b] -> [a, a, b, b]; ``repeats`` an int or one count per slice.  Without
        ``dim``, of the flattened tensor."""
        if dim is None:
            return self.flatten().repeat_interleave(repeats, 0)
        axis = canonical_dim(dim, self.ndim)
        counts = repeats.cpu().numpy() if isinstance(repeats, CompositeMethods) else repeats
        positions = numpy.repeat(numpy.arange(self.shape[axis]), counts)
        return self[(slice(None),) * axis + (positions,)]

    def clamp_min(self, min):
        return self.clamp(min=min)

    def clamp_max(self, max):
        return self.clamp(max=max)

    def count_nonzero(self, dim=None):
        """How many elements are not 0, over ``dim`` (an int or a tuple) or everything: int64."""
        return (self != 0).sum(dim).long()

    def masked_select(self, mask):
        """The elements where ``mask`` (broadcast with self) is true, as a 1-D tensor."""
        shape = numpy.broadcast_shapes(tuple(self.shape), tuple(mask.shape))
        values = self if tuple(self.shape) == shape else self.broadcast_to(shape)
        return values[mask if tuple(mask.shape) == shape else mask.broadcast_to(shape)]

    def take(self, index):
        """The elements of the flattened tensor at ``index`` (any shape: the output's)."""
        return self.flatten()[index]

    def median(self, dim=None, keepdim=False):
        """The lower median (of an even count, the smaller of the two middle values, as torch):
        of everything, or along ``dim`` as (values, indices).  The gradient goes to the
        element chosen."""
        if dim is None:
            flat = self.flatten()
            return flat[flat.argsort()[(flat.shape[0] - 1) // 2]]
        axis = canonical_dim(dim, self.ndim)
        middle = (self.shape[axis] - 1) // 2
        indices = self.argsort(axis).select(axis, middle).unsqueeze(axis)
        values = self.gather(axis, indices)
        if not keepdim:
            values, indices = values.squeeze(axis), indices.squeeze(axis)
        return return_types.median(values, indices)

    # ------------------------------------------------------------ small formulas
    def lerp(self, end, weight):
        """self + weight (end - self): from self (weight 0) to end (weight 1)."""
        return self + weight * (end - self)

    def addcmul(self, tensor1, tensor2, *, value=1):
        """self + value tensor1 tensor2."""
        return self + tensor1 * tensor2 * value

    def addcdiv(self, tensor1, tensor2, *, value=1):
        """self + value tensor1 / tensor2."""
        return self + tensor1 / tensor2 * value

    def xlogy(self, other):
        """self log(other), and 0 where self is 0 (even where other is 0 too)."""
        other = self._operand(other)
        zero = self == 0
        return (self * other.where(~zero, 1).log()).where(~zero, 0.0)

    def logit(self, eps=None):
        """log(p / (1 - p)), p clamped to [eps, 1 - eps] when eps is given."""
        p = self if eps is None else self.clamp(eps, 1 - eps)
        return (p / (1 - p)).log()

    def nan_to_num(self, nan=0.0, posinf=None, neginf=None):
        """NaN, inf and -inf replaced by ``nan``, ``posinf`` and ``neginf`` (default: the dtype's
        largest and smallest finite values); the gradient passes where nothing is replaced."""
        if self.dtype.kind != "f":
            return self.clone()
        info = numpy.finfo(self.dtype)
        big = info.max if posinf is None else posinf
        small = info.min if neginf is None else neginf
        out = self.where(~self.isnan(), nan)
        return out.where(out != math.inf, big).where(out != -math.inf, small)

    def nansum(self, dim=None, keepdim=False):
        """The sum over ``dim`` (or everything) with NaNs counted as 0."""
        return self.where(~self.isnan(), 0.0).sum(dim, keepdim)

    def nanmean(self, dim=None, keepdim=False):
        """The mean of the non-NaN elements over ``dim`` (or everything)."""
        count = (~self.isnan()).sum(dim, keepdim).to(dtype=self.dtype)
        return self.nansum(dim, keepdim) / count

    # ------------------------------------------------------------ products
    def _check_dims(self, other, name, ndim, what):
        for label, t in (("self", self), ("other", other)):
            if not isinstance(t, CompositeMethods) or t.ndim != ndim:
                got = f"{t.ndim}D" if isinstance(t, CompositeMethods) else type(t).__name__
                raise RuntimeError(f"{name}: {label} must be a {what} ({ndim}D), got {got}")

    def outer(self, vec2):
        """The matrix v_i w_j of two vectors."""
        self._check_dims(vec2, "outer", 1, "vector")
        return self.unsqueeze(1) * vec2.unsqueeze(0)

    ger = outer

    def dot(self, other):
        """The sum of v_i w_i of two vectors of the same length and dtype."""
        self._check_dims(other, "dot", 1, "vector")
        if self.shape != other.shape:
            raise RuntimeError(f"inconsistent tensor size, expected tensor [{self.shape[0]}] and src "
                               f"[{other.shape[0]}] to have the same number of elements, but got "
                               f"{self.shape[0]} and {other.shape[0]} elements respectively")
        return self @ other

    inner_product = dot

    def bmm(self, mat2):
        """A batch of matrix products: (b, n, m) @ (b, m, p) -> (b, n, p), no broadcasting."""
        self._check_dims(mat2, "bmm", 3, "batch of matrices")
        if self.shape[0] != mat2.shape[0] or self.shape[2] != mat2.shape[1]:
            raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                               f"[{self.shape[0]}, {self.shape[2]}] but got: [{mat2.shape[0]}, {mat2.shape[1]}].")
        return self @ mat2

    # ------------------------------------------------------------ reductions
    def logsumexp(self, dim, keepdim=False):
        """log sum exp(x) over ``dim``, without overflow: m + log sum exp(x - m) with m the
        maximum, held constant (the result does not depend on it; where every element
        is -inf, m is 0).  Its gradient is softmax(x) along ``dim``."""
        axes = canonical_dims(dim, self.ndim)
        x = self._as_float()
        m = x.detach().amax(axes, keepdim=True)
        m = m.where(m.isfinite(), 0)
        out = (x - m).exp().sum(axes, keepdim=True).log() + m
        return out if keepdim else out.squeeze(axes)

    # ------------------------------------------------------------ new tensors like this one
    def _like(self, make, dtype, device, requires_grad):
        from . import creation
        dtype = self.dtype if dtype is None else dtype
        device = self.device if device is None else device
        return make(creation, dtype, device).requires_grad_(requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        """Zeros of ``size``, with self's dtype and device unless given."""
        return self._like(lambda c, t, d: c.zeros(*size, dtype=t, device=d), dtype, device, requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        return self._like(lambda c, t, d: c.ones(*size, dtype=t, device=d), dtype, device, requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        return self._like(lambda c, t, d: c.empty(*size, dtype=t, device=d), dtype, device, requires_grad)

    def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
        return self._like(lambda c, t, d: c.full(size, fill_value, dtype=t, device=d), dtype, device,
                          requires_grad)

    def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False):
        """A copy of ``data`` with self's dtype and device unless given."""
        return self._like(lambda c, t, d: c.tensor(data, dtype=t, device=d), dtype, device, requires_grad)

    # ------------------------------------------------------------ memory layout
    def is_contiguous(self):
        """Whether the elements lie in memory in C order without gaps."""
        return bool(self._data.flags.c_contiguous)

    def stride(self, dim=None):
        """How many elements apart neighbours along each dim are in memory (or along ``dim``)."""
        strides = tuple(s // self._data.itemsize for s in self._data.strides)
        return strides if dim is None else strides[canonical_dim(dim, self.ndim)]

    def element_size(self):
        """Bytes per element."""
        return self._data.itemsize

    @property
    def itemsize(self):
        return self._data.itemsize

    @property
    def nbytes(self):
        return self._data.nbytes

    # ------------------------------------------------------------ integer answers
    def nonzero(self, *, as_tuple=False):
        """The indices of the nonzero elements: a (count, ndim) int64 tensor, row by row in
        C order, or with ``as_tuple`` one 1-D tensor per dim (what ``x[...]`` takes)."""
        if as_tuple:
            return tuple(type(self).wrap(i.astype(numpy.int64), self.device)
                         for i in self.xp.nonzero(self._data if self.ndim else self._data.reshape(1)))
        return type(self).wrap(self.xp.argwhere(self._data).astype(numpy.int64), self.device)

    def argwhere(self):
        """``nonzero()``: the (count, ndim) indices of the nonzero elements."""
        return self.nonzero()

    def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
        """The distinct elements in ascending order (of the flattened tensor, or the distinct
        slices along ``dim``); with ``return_inverse`` also where each element's value is in
        that list (the input's shape), with ``return_counts`` how often each occurs."""
        values, inverse, counts = self.xp.unique(self._data, return_inverse=True, return_counts=True, axis=dim)
        wrap = type(self).wrap
        out = [wrap(values, self.device)]
        if return_inverse:
            shape = self.shape if dim is None else (self.shape[canonical_dim(dim, self.ndim)],)
            out.append(wrap(inverse.reshape(shape).astype(numpy.int64), self.device))
        if return_counts:
            out.append(wrap(counts.astype(numpy.int64), self.device))
        return out[0] if len(out) == 1 else tuple(out)
