"""2-D convolution as a matrix product, and the two ops that are its gradients.

A convolution (a cross-correlation, as in PyTorch) of x (N, C, H, W) with a
kernel w (C_out, C/G, kH, kW) in G groups: output channel o of group g sees
only the input channels of group g,

    y[n, o, i, j] = sum_{c, a, b} w[o, c, a, b] x_pad[n, g C/G + c, i sh + a dh, j sw + b dw].

With the windows of x gathered as the columns of a matrix (im2col,
ops/windows.py), cols of shape (G, C/G kH kW, H_out W_out N), this is one
matrix product per group, y = W cols with W = w reshaped to (G, C_out/G,
C/G kH kW): a single call to the BLAS when G = 1.

The scalar <g, conv(x, w)> = sum g * conv(x, w) is linear in each of g, x and
w, so its three partial gradients are the three ops of this file:

    d/dg = conv(x, w)                 Conv2d
    d/dx = conv_transpose(g, w)       ConvTranspose2d: W^T g per window, added back (col2im)
    d/dw = conv_weight(x, g)          ConvWeight: g cols^T, summing over images and places

Each op's backward is written with the other two, so a gradient of any order
is again made of convolutions.
"""
from ..autograd import Function
from ..backend import device_of, xp_of
from .windows import Windows, batch_innermost, col2im, im2col, pair, windows_along


def convolve(x, w, windows, groups):
    """conv(x, w) on arrays: (N, C_out, H_out, W_out), one product W cols per group."""
    n, (ho, wo) = x.shape[0], windows.out_size
    c_out, rows = w.shape[0], w[0].size                        # rows of cols per group: C/G kH kW
    cols = im2col(x, windows).reshape(groups, rows, ho * wo * n)
    y = xp_of(device_of(x)).matmul(w.reshape(groups, c_out // groups, rows), cols)
    return y.reshape(c_out, ho, wo, n).transpose(3, 0, 1, 2)


def convolve_transpose(g, w, windows, groups):
    """conv_transpose(g, w) on arrays: (N, C, H, W), the adjoint of ``convolve`` in x.

    With stride 1 it is itself a convolution, of g with the kernel flipped and
    its channel axes swapped, g padded by d(k - 1) - before (a negative width
    crops) so that its windows cover every input place: one product on windows
    of g.  With a larger stride that convolution would mostly multiply the
    zeros inserted between the entries of g, so the product W^T g is formed per
    window and added back with col2im instead.
    """
    if windows.stride == (1, 1):
        return convolve(g, _flipped(w, groups), _windows_over_the_output(windows), groups)
    c_out, c_group = w.shape[:2]
    per_window = w.reshape(groups, c_out // groups, w[0].size).transpose(0, 2, 1)  # (G, C/G kH kW, C_out/G)
    g_columns = batch_innermost(g).reshape(groups, c_out // groups, g.size // c_out)  # (G, C_out/G, H_out W_out N)
    cols = xp_of(device_of(g)).matmul(per_window, g_columns)
    return col2im(cols.reshape((groups * c_group,) + windows.kernel_size + windows.out_size + g.shape[:1]),
                  windows)


def _flipped(w, groups):
    """The kernel (C_out, C/G, kH, kW) flipped in both spatial axes, its channel axes
    swapped within each group: (C, C_out/G, kH, kW)."""
    c_out, c_group = w.shape[:2]
    per_group = w.reshape((groups, c_out // groups, c_group) + w.shape[2:])
    return per_group.transpose(0, 2, 1, 3, 4)[..., ::-1, ::-1].reshape((groups * c_group, c_out // groups)
                                                                      + w.shape[2:])


def _windows_over_the_output(windows):
    """The windows (stride 1) of the convolution that maps a stride-1 convolution's
    output back to its input's size: along each axis, the output padded by
    d(k - 1) - before in front and by whatever makes n_in windows fit behind."""
    padding = tuple((d * (k - 1) - before, n + before - count) for k, d, (before, _), n, count in
                    zip(windows.kernel_size, windows.dilation, windows.padding, windows.in_size, windows.out_size))
    return Windows(windows.out_size, windows.in_size, windows.kernel_size, (1, 1), padding, windows.dilation)


def convolve_weight(x, g, windows, groups):
    """conv_weight(x, g) on arrays: (C_out, C/G, kH, kW), the adjoint of ``convolve`` in w:
    g cols^T per group, the sum over images and places done by the product."""
    c_out, columns = g.shape[1], g.size // g.shape[1]                # columns: H_out W_out N
    rows = x.shape[1] // groups * windows.kernel_size[0] * windows.kernel_size[1]
    cols = im2col(x, windows).reshape(groups, rows, columns)
    g_columns = batch_innermost(g).reshape(groups, c_out // groups, columns)
    dw = xp_of(device_of(x)).matmul(g_columns, cols.transpose(0, 2, 1))
    return dw.reshape((c_out, x.shape[1] // groups) + windows.kernel_size)


def _add_bias(y, bias):
    if bias is not None:
        y += bias._data.reshape(1, -1, 1, 1)
    return y


class Conv2d(Function):
    """y = conv(x, w) + b (the formula in the module docstring).

    dL/dx = conv_transpose(dL/dy, w),  dL/dw = conv_weight(x, dL/dy),
    dL/db = dL/dy summed over images and places.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, windows, groups):
        ctx.save_for_backward(x, weight)
        return _add_bias(convolve(x._data, weight._data, windows, groups), bias)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        windows, groups = ctx.inputs[3:]
        needs_x, needs_w, needs_b = ctx.needs_input_grad[:3]
        dx = ConvTranspose2d.apply(grad, weight, None, windows, groups) if needs_x else None
        dw = ConvWeight.apply(x, grad, windows, groups) if needs_w else None
        db = grad.sum((0, 2, 3)) if needs_b else None
        return dx, dw, db, None, None


class ConvTranspose2d(Function):
    """z = conv_transpose(g, w) + b: the adjoint of the convolution described by
    ``windows``, mapping its outputs (N, C_out, H_out, W_out) back to its inputs'
    shape (N, C, H, W).  <conv_transpose(g, w), u> = <g, conv(u, w)> = <conv_weight(u, g), w>, so

    dL/dg = conv(dL/dz, w),  dL/dw = conv_weight(dL/dz, g),  dL/db = dL/dz summed over images and places.
    """

    @staticmethod
    def forward(ctx, g, weight, bias, windows, groups):
        ctx.save_for_backward(g, weight)
        return _add_bias(convolve_transpose(g._data, weight._data, windows, groups), bias)

    @staticmethod
    def backward(ctx, grad):
        g, weight = ctx.saved_tensors
        windows, groups = ctx.inputs[3:]
        needs_g, needs_w, needs_b = ctx.needs_input_grad[:3]
        dg = Conv2d.apply(grad, weight, None, windows, groups) if needs_g else None
        dw = ConvWeight.apply(grad, g, windows, groups) if needs_w else None
        db = grad.sum((0, 2, 3)) if needs_b else None
        return dg, dw, db, None, None


class ConvWeight(Function):
    """v = conv_weight(x, g): the gradient of <g, conv(x, w)> with respect to w, of
    shape (C_out, C/G, kH, kW).  <conv_weight(x, g), u> = <g, conv(x, u)> = <x, conv_transpose(g, u)>, so

    dL/dx = conv_transpose(g, dL/dv),  dL/dg = conv(x, dL/dv).
    """

    @staticmethod
    def forward(ctx, x, g, windows, groups):
        ctx.save_for_backward(x, g)
        return convolve_weight(x._data, g._data, windows, groups)

    @staticmethod
    def backward(ctx, grad):
        x, g = ctx.saved_tensors
        windows, groups = ctx.inputs[2:]
        needs_x, needs_g = ctx.needs_input_grad[:2]
        dx = ConvTranspose2d.apply(g, grad, None, windows, groups) if needs_x else None
        dg = Conv2d.apply(x, grad, None, windows, groups) if needs_g else None
        return dx, dg, None, None


def _size(shape):
    return "[" + ", ".join(str(n) for n in shape) + "]"


def _check_operands(op, x, weight, bias, groups, transposed):
    """The checks conv2d and conv_transpose2d share: weight rank, groups, channels, bias, dtypes."""
    if weight.ndim != 4:
        layout = "(in_channels, out_channels/groups, kH, kW)" if transposed else \
            "(out_channels, in_channels/groups, kH, kW)"
        raise RuntimeError(f"{op}: expected a 4-D weight {layout}, but got weight of size {_size(weight.shape)}")
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise RuntimeError(f"{op}: groups must be a positive integer, but got groups={groups!r}")
    if weight.shape[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
                           f"but got weight of size {_size(weight.shape)} instead")
    if min(weight.shape[2:]) < 1:
        raise RuntimeError(f"{op}: kernel size should be greater than zero, but got weight of size "
                           f"{_size(weight.shape)}")
    channels = weight.shape[0] if transposed else weight.shape[1] * groups
    if x.shape[1] != channels:
        given = "transposed=1" if transposed else f"groups={groups}"
        raise RuntimeError(f"Given {given}, weight of size {_size(weight.shape)}, expected input{_size(x.shape)} "
                           f"to have {channels} channels, but got {x.shape[1]} channels instead")
    if x.dtype != weight.dtype:
        raise RuntimeError(f"{op}: expected input and weight of the same dtype, but got input {x.dtype} and "
                           f"weight {weight.dtype} (convert one: weight.to(input.dtype))")
    if bias is not None:
        out_channels = weight.shape[1] * groups if transposed else weight.shape[0]
        if bias.shape != (out_channels,):
            raise RuntimeError(f"Given weight of size {_size(weight.shape)}, expected bias to be 1-dimensional "
                               f"with {out_channels} elements, but got bias of size {_size(bias.shape)} instead")
        if bias.dtype != x.dtype:
            raise RuntimeError(f"{op}: Input type ({x.dtype}) and bias type ({bias.dtype}) should be the same")


def _positive(values, name, op, least=1):
    if min(values) < least:
        kind = "positive" if least else "non-negative"
        raise RuntimeError(f"{op}: {name} must be {kind}, but got {name}={values}")
    return values


def conv2d_windows(x, weight, bias, stride, padding, dilation, groups):
    """The windows of ``F.conv2d`` for a batched x, after checking every argument
    (integers or pairs; padding also "valid" or "same", which needs stride 1)."""
    op = "conv2d"
    _check_operands(op, x, weight, bias, groups, transposed=False)
    stride = _positive(pair(stride, "stride", op), "stride", op)
    dilation = _positive(pair(dilation, "dilation", op), "dilation", op)
    kernel = tuple(weight.shape[2:])
    if isinstance(padding, str):
        if padding not in ("valid", "same"):
            raise RuntimeError(f"Invalid padding string: {padding!r} (expected 'valid', 'same', an int or a pair)")
        if padding == "same" and stride != (1, 1):
            raise RuntimeError(f"padding='same' is not supported for strided convolutions (stride={stride})")
        # "same": d(k - 1) in all, the odd one at the end (bottom, right), as PyTorch
        padding = tuple((0, 0) if padding == "valid" else (d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2)
                        for k, d in zip(kernel, dilation))
    else:
        padding = tuple((p, p) for p in _positive(pair(padding, "padding", op), "padding", op, least=0))
    in_size = tuple(x.shape[2:])
    padded = tuple(n + before + after for n, (before, after) in zip(in_size, padding))
    spans = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(s > n for s, n in zip(spans, padded)):
        raise RuntimeError(f"Calculated padded input size per channel: ({padded[0]} x {padded[1]}). Kernel size: "
                           f"({spans[0]} x {spans[1]}). Kernel size can't be greater than actual input size")
    out_size = tuple(windows_along(n, k, s, before, after, d)
                     for n, k, s, (before, after), d in zip(in_size, kernel, stride, padding, dilation))
    return Windows(in_size, out_size, kernel, stride, padding, dilation)


def conv_transpose2d_windows(g, weight, bias, stride, padding, output_padding, groups, dilation):
    """The windows of the convolution that ``F.conv_transpose2d`` is the adjoint of:
    its output is g's size, its input H = (H_g - 1) s - 2 p + d (k - 1) + output_padding + 1."""
    op = "conv_transpose2d"
    _check_operands(op, g, weight, bias, groups, transposed=True)
    if isinstance(padding, str):
        raise TypeError(f"{op}(): argument 'padding' must be an int or a pair of ints, not str")
    stride = _positive(pair(stride, "stride", op), "stride", op)
    dilation = _positive(pair(dilation, "dilation", op), "dilation", op)
    padding = _positive(pair(padding, "padding", op), "padding", op, least=0)
    output_padding = _positive(pair(output_padding, "output_padding", op), "output_padding", op, least=0)
    if any(e >= s and e >= d for e, s, d in zip(output_padding, stride, dilation)):
        raise RuntimeError(f"{op}: output padding must be smaller than either stride or dilation, but got "
                           f"output_padding={output_padding}, stride={stride}, dilation={dilation}")
    kernel, out_size = tuple(weight.shape[2:]), tuple(g.shape[2:])
    in_size = tuple((n - 1) * s - 2 * p + d * (k - 1) + e + 1
                    for n, s, p, d, k, e in zip(out_size, stride, padding, dilation, kernel, output_padding))
    if min(in_size) < 1:
        raise RuntimeError(f"Given input size per channel: ({out_size[0]} x {out_size[1]}). Calculated output "
                           f"size per channel: ({in_size[0]} x {in_size[1]}). Output size is too small")
    return Windows(in_size, out_size, kernel, stride, tuple((p, p) for p in padding), dilation)
