"""Properties of the graph and the backward engine: accumulation, reuse of a
node, deep chains, no_grad/enable_grad, detach, retain_graph, create_graph
(second derivatives, Hessian-vector products), inputs never mutated,
tg.autograd.grad, custom Functions, detect_anomaly."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import tinygrad_bn as tg
from tinygrad_bn.autograd import Function
from tinygrad_bn.testing import strategies as tst
from opcheck import leaves


def f64(values, device, requires_grad=False):
    return tg.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad, device=device)


# ------------------------------------------------------------------ accumulation and reuse
def test_gradients_accumulate_across_backward_calls(device):
    x = f64([1.0, 2.0], device, requires_grad=True)
    (x * 2).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 2 + 2 * np.array([1.0, 2.0]))
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


@given(a=tst.arrays())
def test_a_node_used_many_times(device, a):
    """b = a + a, c = b * b: dc/da = 2 b * 2 = 8 a (both uses of a and of b count)."""
    x = leaves([a], device)[0]
    b = x + x
    c = b * b
    c.backward(tg.ones(c.shape, dtype=tg.float64, device=device))
    np.testing.assert_allclose(x.grad.numpy(), 8 * a, rtol=1e-15)


def test_a_diamond_with_shared_intermediates(device):
    """y = u * v with u = x^2, v = x^3 and w = u + v used twice: every path is summed once."""
    x = f64([2.0], device, requires_grad=True)
    u, v = x * x, x * x * x
    w = u + v
    (w * w + u * v).backward(f64([1.0], device))
    xv = 2.0
    expected = 2 * (xv ** 2 + xv ** 3) * (2 * xv + 3 * xv ** 2) + 5 * xv ** 4
    np.testing.assert_allclose(x.grad.numpy(), [expected])


def test_a_chain_of_100000_ops_backpropagates_without_recursion():
    x = f64([1.0], "cpu", requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0001
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0001 ** 100_000], rtol=1e-9)


# ------------------------------------------------------------------ recording modes
def test_no_grad_records_nothing(device):
    x = f64([1.0, 2.0], device, requires_grad=True)
    with tg.no_grad():
        assert not tg.is_grad_enabled()
        y = (x * 2).exp().sum()
    assert tg.is_grad_enabled()
    assert y.grad_fn is None and not y.requires_grad and y.is_leaf
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_inference_mode_is_no_grad_under_its_newer_name(device):
    w = tg.ones(2, requires_grad=True, device=device)
    assert not tg.is_inference_mode_enabled()
    with tg.inference_mode():
        assert tg.is_inference_mode_enabled() and not tg.is_grad_enabled()
        assert not (w * 2).requires_grad
    with tg.inference_mode(False):
        assert (w * 2).requires_grad

    @tg.inference_mode()
    def predict(x):
        return x * w
    assert not predict(w).requires_grad and tg.is_grad_enabled()


def test_no_grad_as_a_decorator(device):
    @tg.no_grad()
    def double(t):
        return t * 2
    y = double(f64([1.0], device, requires_grad=True))
    assert y.grad_fn is None and not y.requires_grad
    assert double.__name__ == "double"


def test_enable_grad_inside_no_grad(device):
    x = f64([1.0, 2.0], device, requires_grad=True)
    with tg.no_grad():
        with tg.enable_grad():
            y = (x * x).sum()
        z = x * 3
    assert y.grad_fn is not None and z.grad_fn is None
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])


def test_the_mode_is_restored_after_an_exception(device):
    with pytest.raises(ZeroDivisionError):
        with tg.no_grad():
            1 / 0
    assert tg.is_grad_enabled()


def test_detach_cuts_the_graph(device):
    x = f64([1.0, 3.0], device, requires_grad=True)
    d = x.detach()
    assert d.is_leaf and not d.requires_grad and d.grad_fn is None
    (x * d).sum().backward()             # d is a constant: d/dx (x * c) = c
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 3.0])
    assert d.grad is None


def test_is_leaf_and_grad_fn(device):
    x = f64([1.0], device, requires_grad=True)
    y = x.exp()
    assert x.is_leaf and x.grad_fn is None
    assert not y.is_leaf and type(y.grad_fn).__name__ == "Exp" and y.requires_grad
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)


def test_leaf_gradients_only(device):
    """Intermediate tensors get no .grad (as in PyTorch without retain_grad)."""
    x = f64([1.0, 2.0], device, requires_grad=True)
    y = x * 2
    y.sum().backward()
    assert y.grad is None and x.grad is not None


# ------------------------------------------------------------------ retain_graph
def test_second_backward_through_a_freed_graph_raises(device):
    x = f64([1.0, 2.0], device, requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward_that_doubles_the_gradient(device):
    x = f64([1.0, 2.0], device, requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first)
    np.testing.assert_allclose(first, np.exp([1.0, 2.0]) * (1 + np.array([1.0, 2.0])))


# ------------------------------------------------------------------ create_graph
def test_second_derivative_of_tanh_through_backward(device):
    values = np.linspace(-1.5, 1.5, 4)
    x = f64(values, device, requires_grad=True)
    x.tanh().sum().backward(create_graph=True)
    first = x.grad
    assert first.requires_grad
    x.grad = None
    first.sum().backward()
    t = np.tanh(values)
    np.testing.assert_allclose(x.grad.numpy(), -2 * t * (1 - t ** 2), rtol=1e-12)


def test_hessian_vector_product_of_a_cubic(device):
    """f = sum(x^3): grad = 3 x^2, H v = 6 x v."""
    xs, vs = np.array([1.0, -2.0, 0.5]), np.array([0.3, 1.0, -2.0])
    x, v = f64(xs, device, requires_grad=True), f64(vs, device)
    (g,) = tg.autograd.grad((x ** 3).sum(), x, create_graph=True)
    (hv,) = tg.autograd.grad((g * v).sum(), x)
    np.testing.assert_allclose(g.detach().numpy(), 3 * xs ** 2)
    np.testing.assert_allclose(hv.numpy(), 6 * xs * vs)


def test_hessian_vector_product_of_a_quadratic_form(device):
    """f = x^T A x: grad = (A + A^T) x, H v = (A + A^T) v."""
    rng = np.random.default_rng(1)
    a, xs, vs = rng.standard_normal((3, 3)), rng.standard_normal(3), rng.standard_normal(3)
    x = f64(xs, device, requires_grad=True)
    (g,) = tg.autograd.grad(x @ f64(a, device) @ x, x, create_graph=True)
    (hv,) = tg.autograd.grad(g, x, f64(vs, device))          # v^T H = (H v)^T, H symmetric
    np.testing.assert_allclose(g.detach().numpy(), (a + a.T) @ xs, rtol=1e-12)
    np.testing.assert_allclose(hv.numpy(), (a + a.T) @ vs, rtol=1e-12)


def test_without_create_graph_gradients_are_constants(device):
    x = f64([1.0], device, requires_grad=True)
    (x ** 3).backward()
    assert not x.grad.requires_grad and x.grad.grad_fn is None


# ------------------------------------------------------------------ inputs stay untouched
OPS = {
    "arithmetic": lambda a, b: (a + b) * (a - b) / (b * b + 1) - a ** 2 + 2.0 ** a,
    "unary": lambda a, b: a.exp() + b.abs().sqrt() + a.tanh() + b.sigmoid() + a.relu() + b.leaky_relu()
    + (a * a + 1).log(),
    "reduce": lambda a, b: a.sum(axis=0) + b.mean(axis=1, keepdims=True) + a.var(axis=0) + b.max()
    + a.min(1, keepdims=True),
    "shape": lambda a, b: a.reshape(-1)[np.array([0, 0, 2])].sum() + b.T.flatten()[1:] + a.permute(1, 0)[0, 0],
    "join": lambda a, b: tg.cat([a, b.broadcast_to((3, 4))], axis=0)[2:5] + tg.stack([a, a], axis=-1).sum(-1),
    "select": lambda a, b: tg.maximum(a, b) + tg.minimum(a, b) + tg.where(a > b, a, b),
    "matmul": lambda a, b: a.T @ b.broadcast_to((3, 4)),
}


@pytest.mark.parametrize("name", OPS)
def test_inputs_and_upstream_gradient_are_never_mutated(device, name):
    rng = np.random.default_rng(2)
    a_values, b_values = rng.standard_normal((3, 4)), rng.standard_normal((3, 1))
    a, b = f64(a_values, device, True), f64(b_values, device, True)
    out = OPS[name](a, b)
    upstream_values = rng.standard_normal(out.shape)
    upstream = f64(upstream_values, device, True)   # so even a linear op's gradient has a graph
    out.backward(upstream, create_graph=True)
    (a.grad.sum() + b.grad.sum()).backward()                  # and a second-order pass
    for t, original in [(a, a_values), (b, b_values), (upstream, upstream_values)]:
        np.testing.assert_array_equal(t.detach().numpy(), original)


# ------------------------------------------------------------------ errors
def test_backward_of_a_non_scalar_needs_a_gradient(device):
    y = f64([1.0, 2.0], device, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"one element.*\(2,\)"):
        y.backward()
    with pytest.raises(RuntimeError, match=r"\(3,\).*\(2,\)"):
        y.backward(f64([1.0, 2.0, 3.0], device))


def test_grad_setter_validates(device):
    x = f64([1.0, 2.0], device, requires_grad=True)
    x.grad = f64([5.0, 6.0], device)
    np.testing.assert_array_equal(x.grad.numpy(), [5.0, 6.0])
    with pytest.raises(RuntimeError, match=r"\(3,\).*\(2,\)"):          # torch raises RuntimeError too
        x.grad = f64([1.0, 2.0, 3.0], device)
    with pytest.raises(RuntimeError, match="dtype float32 to a tensor of dtype float64"):
        x.grad = tg.zeros(2, device=device)
    np.testing.assert_array_equal(x.grad.numpy(), [5.0, 6.0])
    with pytest.raises(TypeError, match="Tensor"):
        x.grad = np.zeros(2)
    x.grad = None
    assert x.grad is None


# ------------------------------------------------------------------ tg.autograd.grad
def test_autograd_grad_returns_gradients_and_leaves_dot_grad_untouched(device):
    x = f64([1.0, 2.0], device, requires_grad=True)
    w = f64([3.0, 4.0], device, requires_grad=True)
    x.grad = f64([100.0, 100.0], device)
    y = (x * w).sum()
    gx, gw = tg.autograd.grad(y, [x, w])
    np.testing.assert_array_equal(gx.numpy(), [3.0, 4.0])
    np.testing.assert_array_equal(gw.numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(x.grad.numpy(), [100.0, 100.0])
    assert w.grad is None


def test_autograd_grad_of_an_intermediate_and_unused_inputs(device):
    x = f64([1.0, 2.0], device, requires_grad=True)
    unused = f64([1.0], device, requires_grad=True)
    h = x * 3
    y = (h * h).sum()
    (gh,) = tg.autograd.grad(y, h, retain_graph=True)
    np.testing.assert_array_equal(gh.numpy(), [6.0, 12.0])
    with pytest.raises(RuntimeError, match="allow_unused"):
        tg.autograd.grad(y, [x, unused], retain_graph=True)
    gx, gu = tg.autograd.grad(y, [x, unused], allow_unused=True)
    np.testing.assert_array_equal(gx.numpy(), [18.0, 36.0])
    assert gu is None


def test_autograd_grad_stops_at_a_non_leaf_input(device):
    """torch.autograd.grad runs only the graph between outputs and inputs: the history
    behind a non-leaf input is neither run nor freed, so it can be used again."""
    a = f64([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]], device, requires_grad=True)
    x = a.reshape(2, 3)                          # non-leaf input, made by Reshape
    y = (x * x).sum()
    (gx,) = tg.autograd.grad(y, x)
    np.testing.assert_array_equal(gx.numpy(), 2 * x.detach().numpy())
    assert a.grad is None
    (gx2,) = tg.autograd.grad((x * 3).sum(), x)    # the Reshape node was not freed
    np.testing.assert_array_equal(gx2.numpy(), np.full((2, 3), 3.0))
    x.sum().backward()                           # and backward through it still works
    np.testing.assert_array_equal(a.grad.numpy(), np.ones((1, 6)))


def test_autograd_grad_runs_no_node_it_does_not_need(device):
    calls = []

    class Recorded(Function):
        @staticmethod
        def forward(ctx, x):
            return x._data * 1.0

        @staticmethod
        def backward(ctx, grad):
            calls.append(1)
            return grad

    a = f64([1.0, 2.0], device, requires_grad=True)
    x = Recorded.apply(a)
    y = x * 2 + a
    tg.autograd.grad(y.sum(), x, retain_graph=True)
    assert calls == []                           # behind the requested input: not run
    tg.autograd.grad(y.sum(), a)
    assert calls == [1]


def test_gradgradcheck_with_a_non_leaf_input(device):
    a = f64([[0.5, -1.0, 2.0, 1.5, 0.25, -0.75]], device, requires_grad=True)
    assert tg.gradgradcheck(lambda x: (x * x * x).sum(1), (a.reshape(2, 3),))


def test_autograd_grad_checks_its_arguments(device):
    y = f64([1.0, 2.0], device, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="grad_outputs"):
        tg.autograd.grad(y, y)
    with pytest.raises(RuntimeError, match="does not require grad"):
        tg.autograd.grad(f64([1.0], device), y)


# ------------------------------------------------------------------ custom Functions
class Cube(Function):
    """y = s * x^3 for a constant s.   dL/dx = dL/dy * 3 s x^2."""

    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return scale * x._data ** 3

    @staticmethod
    def backward(ctx, grad_output):
        x, = ctx.saved_tensors
        return grad_output * 3 * ctx.scale * x * x, None


@given(a=tst.arrays(min_magnitude=0.1), scale=st.sampled_from([-2.0, 0.5, 1.0]))
def test_a_custom_function_works_and_gradchecks(device, a, scale):
    x = leaves([a], device)[0]
    y = Cube.apply(x, scale)
    np.testing.assert_allclose(y.detach().numpy(), scale * a ** 3, rtol=1e-12)
    assert type(y.grad_fn) is Cube
    assert tg.gradcheck(lambda t: Cube.apply(t, scale), [x])
    assert tg.gradgradcheck(lambda t: Cube.apply(t, scale), [x])


def test_a_custom_function_sees_which_inputs_need_a_gradient(device):
    seen = []

    class Product(Function):
        @staticmethod
        def forward(ctx, x, y):
            return x._data * y._data

        @staticmethod
        def backward(ctx, grad_output):
            seen.append(ctx.needs_input_grad)
            x, y = ctx.inputs
            return grad_output * y, grad_output * x

    x, y = f64([2.0], device, True), f64([3.0], device)
    Product.apply(x, y).backward()
    assert seen == [(True, False)]
    np.testing.assert_array_equal(x.grad.numpy(), [3.0])
    assert y.grad is None


def test_a_custom_backward_returning_the_wrong_number_of_gradients_raises(device):
    class Broken(Function):
        @staticmethod
        def forward(ctx, x, y):
            return x._data + y._data

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output

    with pytest.raises(RuntimeError, match="Broken.backward returned 1 gradients, expected 2"):
        Broken.apply(f64([1.0], device, True), f64([1.0], device)).backward()


# ------------------------------------------------------------------ detect_anomaly
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_detect_anomaly_names_the_op_and_its_input_shapes(device):
    with tg.detect_anomaly():
        with pytest.raises(tg.AnomalyError, match=r"Log.*forward.*\(2,\)"):
            f64([-1.0, 1.0], device).log()
        x = f64([0.0, 1.0], device, requires_grad=True)
        with pytest.raises(tg.AnomalyError, match=r"Sqrt.*backward.*\(2,\)"):
            x.sqrt().sum().backward()
    f64([-1.0], device).log()          # outside: NaN passes silently, as in PyTorch


class _Tile(tg.Function):
    """y = x broadcast to ``shape``; its backward returns the broadcast-shaped gradient
    (or, with ``wrong=True``, a gradient of an unrelated shape)."""

    @staticmethod
    def forward(ctx, x, shape, wrong):
        return x.xp.broadcast_to(x._data, shape).copy()

    @staticmethod
    def backward(ctx, grad):
        return (grad.reshape(-1) if ctx.inputs[2] else grad), None, None


def test_engine_sums_a_broadcast_gradient_back_to_the_input_shape(device):
    x = tg.tensor([[1.0], [2.0]], requires_grad=True, device=device)          # (2, 1)
    upstream = tg.tensor(np.arange(6.0).reshape(2, 3), device=device)
    _Tile.apply(x, (2, 3), False).backward(upstream)
    np.testing.assert_array_equal(x.grad.numpy(), [[0 + 1 + 2], [3 + 4 + 5]])
    assert x.grad.dtype == x.dtype


def test_engine_names_the_op_whose_gradient_has_a_wrong_shape(device):
    x = tg.tensor([[1.0], [2.0]], requires_grad=True, device=device)
    y = _Tile.apply(x, (2, 3), True)
    with pytest.raises(RuntimeError, match=r"_Tile.backward returned a gradient of shape \(6,\) "
                                           r"for an input of shape \(2, 1\)"):
        y.backward(tg.ones(2, 3, device=device))


def test_grad_keeps_its_tensor_while_accumulating_and_never_writes_an_array(device):
    x = tg.tensor([1.0, 2.0], requires_grad=True, device=device)
    (x * 3).sum().backward()
    first_tensor, first_array = x.grad, x.grad._data
    (x * 4).sum().backward()
    assert x.grad is first_tensor                       # the same Tensor, as in PyTorch
    np.testing.assert_array_equal(x.grad.numpy(), [7.0, 7.0])
    np.testing.assert_array_equal(tg.backend.to_numpy(first_array), [3.0, 3.0])   # old array untouched


def test_every_leaf_owns_its_gradient_so_changing_one_in_place_changes_no_other(device):
    """+ hands one gradient to both inputs, and a gradient can pass unchanged from the caller's
    `gradient=` to a leaf; in PyTorch each .grad is a tensor of its own all the same, so
    w.grad.zero_() (manual SGD) must leave every other tensor as it was."""
    a = tg.ones(3, requires_grad=True, device=device)
    b = tg.ones(3, requires_grad=True, device=device)
    (a + b).sum().backward()
    a.grad.zero_()
    assert b.grad.tolist() == [1.0, 1.0, 1.0] and a.grad.tolist() == [0.0, 0.0, 0.0]
    matrix = tg.ones(2, 2, requires_grad=True, device=device)
    vector = tg.ones(4, requires_grad=True, device=device)
    (matrix.reshape(4) + vector).sum().backward()        # one a view of the other's gradient
    vector.grad.mul_(5)
    assert matrix.grad.tolist() == [[1.0, 1.0], [1.0, 1.0]]
    for make in (lambda x: x + 0, lambda x: x):          # the caller's gradient through +, and a leaf root
        x = tg.ones(3, requires_grad=True, device=device)
        gradient = tg.tensor([1.0, 2.0, 3.0], device=device)
        make(x).backward(gradient)
        x.grad.zero_()
        assert gradient.tolist() == [1.0, 2.0, 3.0]


def test_leaf_gradients_under_create_graph_are_distinct_tensors(device):
    a = tg.tensor([1.0, 2.0], requires_grad=True, device=device)
    b = tg.tensor([3.0, 4.0], requires_grad=True, device=device)
    (a * a + b).sum().backward(create_graph=True)       # + hands b the very gradient it passes on
    assert a.grad is not b.grad and a.grad.requires_grad
    np.testing.assert_array_equal(a.grad.detach().numpy(), [2.0, 4.0])      # 2a
    b.grad.detach().zero_()
    np.testing.assert_array_equal(b.grad.detach().numpy(), [0.0, 0.0])
    c = tg.tensor([5.0, 6.0], requires_grad=True, device=device)
    d = tg.tensor([7.0, 8.0], requires_grad=True, device=device)
    (c + d).sum().backward(create_graph=True)
    assert c.grad is not d.grad
