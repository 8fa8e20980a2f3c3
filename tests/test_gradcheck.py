"""gradcheck and gradgradcheck check themselves: they pass correct gradients,
catch wrong ones (naming the input and the element), refuse checks that
prove nothing, and catch a backward pass that is right only to first order."""
import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import Tensor
from tinygrad_bn.autograd import Function
from tinygrad_bn.gradcheck import GradcheckError


def f64(values, device, requires_grad=True):
    return tg.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad, device=device)


class ScaleWithWrongWeightGradient(Function):
    """y = x * w, whose backward adds 1 to dL/dw at element 1: a planted bug."""

    @staticmethod
    def forward(ctx, x, w):
        return x._data * w._data

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.inputs
        wrong = (grad * x)._data.copy()
        wrong[1] += 1.0
        return grad * w, Tensor.wrap(wrong, w.device)


class CenterWithZeroGradient(Function):
    """y = x - mean(x), with backward returning 0: right only for an upstream
    gradient of all ones (whose true VJP, u - mean(u), is 0 too)."""

    @staticmethod
    def forward(ctx, x):
        return x._data - x._data.mean()

    @staticmethod
    def backward(ctx, grad):
        return grad * 0


class SquareWithDetachedBackward(Function):
    """y = x^2 with backward 2 x u, but x taken as a constant: the first
    derivative is right, the second (d/dx of 2 x u = 2 u) comes out 0."""

    @staticmethod
    def forward(ctx, x):
        return x._data ** 2

    @staticmethod
    def backward(ctx, grad):
        x = ctx.inputs[0]
        return grad * 2 * Tensor.wrap(x._data.copy(), x.device)


class Square(Function):
    """y = x^2, dL/dx = 2 x dL/dy, written with the input itself."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x._data ** 2

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * 2 * x


def test_correct_gradients_pass_and_inputs_are_restored(device):
    x, w = f64([[1.0, -2.0], [0.5, 3.0]], device), f64([0.3, -1.2], device)
    before = x.detach().numpy().copy(), w.detach().numpy().copy()
    assert tg.gradcheck(lambda a, b: (a * b).tanh() @ b, [x, w]) is True
    assert tg.gradgradcheck(lambda a, b: (a * b).tanh() @ b, [x, w]) is True
    np.testing.assert_array_equal(x.detach().numpy(), before[0])
    np.testing.assert_array_equal(w.detach().numpy(), before[1])


def test_a_wrong_gradient_is_reported_with_its_input_and_element(device):
    x, w = f64([1.0, 2.0, 3.0], device), f64([4.0, 5.0, 6.0], device)
    with pytest.raises(GradcheckError, match=r"input 1 \(shape \(3,\)\).*element \(1,\).*analytic.*numerical") as failure:
        tg.gradcheck(ScaleWithWrongWeightGradient.apply, [x, w])
    error = failure.value          # the same facts as attributes, for reports in other words
    assert (error.input_index, error.element, error.differing) == (1, (1,), 1)
    np.testing.assert_allclose(error.analytic - error.numerical, 1.0, rtol=1e-6)    # the planted + 1


def test_the_random_upstream_gradient_catches_what_a_plain_sum_misses(device):
    x = f64([1.0, -2.0, 0.5, 4.0], device)
    ones = tg.ones(4, dtype=tg.float64, device=device)
    assert tg.gradcheck(CenterWithZeroGradient.apply, [x], grad_output=ones, allow_zero=True)
    with pytest.raises(GradcheckError, match="input 0"):
        tg.gradcheck(CenterWithZeroGradient.apply, [x])


def test_all_zero_gradients_are_reported_unless_allowed(device):
    x = f64([1.0, 2.0], device)
    with pytest.raises(GradcheckError, match="~0.*proves nothing"):
        tg.gradcheck(lambda t: t * 0, [x])
    assert tg.gradcheck(lambda t: t * 0, [x], allow_zero=True)


def test_float32_inputs_are_refused(device):
    x = tg.tensor([1.0, 2.0], requires_grad=True, device=device)
    with pytest.raises(ValueError, match="input 0 is float32.*float64"):
        tg.gradcheck(lambda t: t * t, [x])


def test_argument_errors(device):
    with pytest.raises(ValueError, match="no input requires grad"):
        tg.gradcheck(lambda t: t * 2, [f64([1.0], device, requires_grad=False)])
    with pytest.raises(ValueError, match="no input requires grad"):
        tg.gradgradcheck(lambda t: t * 2, [f64([1.0], device, requires_grad=False)])
    with pytest.raises(TypeError, match="must return a Tensor"):
        tg.gradcheck(lambda t: t.detach().numpy(), [f64([1.0], device)])


def test_inputs_that_need_no_gradient_are_left_out(device):
    x, c = f64([1.0, 2.0], device), f64([3.0, 4.0], device, requires_grad=False)
    assert tg.gradcheck(lambda a, b: a * b, [x, c])
    assert tg.gradcheck(lambda a, k: a * k, [x, 2.5])


def test_gradgradcheck_catches_a_backward_that_is_right_only_to_first_order(device):
    x = f64([1.0, -2.0, 0.5], device)
    assert tg.gradcheck(SquareWithDetachedBackward.apply, [x])
    with pytest.raises(GradcheckError, match="input 0"):
        tg.gradgradcheck(SquareWithDetachedBackward.apply, [x])
    assert tg.gradgradcheck(Square.apply, [x])
