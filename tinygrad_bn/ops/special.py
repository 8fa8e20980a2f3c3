"""The error function and the GELU built on it.

NumPy has no erf, so ``erfc_array`` evaluates W. J. Cody's rational Chebyshev
approximations ("Rational Chebyshev approximations for the error function",
Math. Comp. 23 (1969) 631-638; the coefficients of his CALERF), accurate to
about one unit in the last place of a double, on any array module:

    |x| <= 0.46875       erf(x)  = x R1(x^2)
    0.46875 < |x| <= 4   erfc(x) = e^(-x^2) R2(x)
    |x| > 4              erfc(x) = e^(-x^2) / x (1/sqrt(pi) - R3(1/x^2) / x^2)

with erfc(-x) = 2 - erfc(x), and e^(-x^2) formed in two factors so that it keeps
its accuracy.  Float32 input is computed in float64 and rounded once.

GELU (Hendrycks & Gimpel, 2016) is x Phi(x), Phi the standard normal CDF,
Phi(x) = erfc(-x / sqrt 2) / 2; its ``tanh`` approximation, as PyTorch's
``approximate="tanh"``, is x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2.
"""
import math

from ..autograd import Function

_R1_NUM = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02, 3.20937758913846947e03,
           1.85777706184603153e-1)
_R1_DEN = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03, 2.84423683343917062e03)
_R2_NUM = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01, 2.98635138197400131e02,
           8.81952221241769090e02, 1.71204761263407058e03, 2.05107837782607147e03, 1.23033935479799725e03,
           2.15311535474403846e-8)
_R2_DEN = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02, 1.62138957456669019e03,
           3.29079923573345963e03, 4.36261909014324716e03, 3.43936767414372164e03, 1.23033935480374942e03)
_R3_NUM = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1, 1.60837851487422766e-2,
           6.58749161529837803e-4, 1.63153871373020978e-2)
_R3_DEN = (2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1, 6.05183413124413191e-2,
           2.33520497626869185e-3)
_INV_SQRT_PI = 5.6418958354775628695e-1
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)


def _rational(num, den, t, steps):
    """Cody's nested evaluation: (((num[-1] t + num[0]) t + ...) t + num[steps]) over
    ((t + den[0]) t + ...) t + den[steps]."""
    top, bottom = num[-1] * t, t
    for i in range(steps):
        top, bottom = (top + num[i]) * t, (bottom + den[i]) * t
    return (top + num[steps]) / (bottom + den[steps])


def _exp_minus_square(xp, y):
    """e^(-y^2), from y^2 split into a part with few bits and a small rest."""
    head = xp.trunc(y * 16) / 16
    return xp.exp(-head * head) * xp.exp(-(y - head) * (y + head))


def erfc_array(xp, x):
    """erfc(x) = 1 - erf(x) elementwise, in x's floating dtype (module docstring)."""
    y64 = xp.abs(x.astype(xp.float64))
    y = xp.minimum(y64, 30.0)                              # erfc(30) underflows: the same 0, and no inf - inf
    near = 1 - y * _rational(_R1_NUM, _R1_DEN, y * y, 3)
    middle = _exp_minus_square(xp, y) * _rational(_R2_NUM, _R2_DEN, y, 7)
    far_y = xp.maximum(y, 4.0)                             # (evaluated everywhere, used beyond 4 only)
    inverse_square = 1 / (far_y * far_y)
    far = _exp_minus_square(xp, far_y) * (
        _INV_SQRT_PI - inverse_square * _rational(_R3_NUM, _R3_DEN, inverse_square, 4)) / far_y
    of_abs = xp.where(y <= 0.46875, near, xp.where(y <= 4.0, middle, far))
    out = xp.where(x < 0, 2 - of_abs, of_abs)
    return xp.where(xp.isnan(y64), xp.nan, out).astype(x.dtype)


def erf_array(xp, x):
    """erf(x) elementwise; near 0 from its own series, so that erf(x) ~ 2x/sqrt(pi) keeps
    its relative accuracy."""
    x64 = x.astype(xp.float64)
    small = xp.clip(x64, -1.0, 1.0)                       # (evaluated everywhere, used up to 0.46875 only)
    near = small * _rational(_R1_NUM, _R1_DEN, small * small, 3)
    return xp.where(xp.abs(x64) <= 0.46875, near, 1 - erfc_array(xp, x64)).astype(x.dtype)


class Erf(Function):
    """y = erf(x) = 2/sqrt(pi) int_0^x e^(-t^2) dt.   dL/dx = dL/dy * 2/sqrt(pi) e^(-x^2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return erf_array(x.xp, x._data)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * ((-(x * x)).exp() * (2 * _INV_SQRT_PI))


class GELU(Function):
    """y = x Phi(x) (``approximate="none"``) or its tanh form (module docstring).

        exact:  dL/dx = dL/dy (Phi(x) + x phi(x)),  phi(x) = e^(-x^2/2) / sqrt(2 pi)
        tanh:   with u = sqrt(2/pi) (x + 0.044715 x^3) and t = tanh u,
                dL/dx = dL/dy ((1 + t)/2 + x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2) / 2)

    The backward is written with Tensor ops (Erf, Exp, Tanh), so it differentiates again.
    """

    @staticmethod
    def forward(ctx, x, approximate):
        ctx.save_for_backward(x)
        a, xp = x._data, x.xp
        if approximate == "tanh":
            return a * (1 + xp.tanh(_SQRT_2_OVER_PI * (a + 0.044715 * a ** 3))) / 2
        return a * erfc_array(xp, -a * math.sqrt(0.5)) / 2

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        if ctx.inputs[1] == "tanh":
            t = (_SQRT_2_OVER_PI * (x + 0.044715 * x ** 3)).tanh()
            slope = (1 + t) / 2 + x * (1 - t * t) * (_SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)) / 2
            return grad * slope, None
        cdf = (1 + Erf.apply(x * math.sqrt(0.5))) / 2
        return grad * (cdf + x * ((x * x * -0.5).exp() * _INV_SQRT_2PI)), None
