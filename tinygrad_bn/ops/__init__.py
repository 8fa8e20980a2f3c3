"""Primitive differentiable operations, one family per file.

Each op is a :class:`~tinygrad_bn.autograd.Function`: ``forward`` computes on
arrays through the backend's array module, ``backward`` returns the
vector-Jacobian product written with Tensor operations (so it can itself be
differentiated when ``create_graph=True``).
"""
from ..dims import canonical_dim, canonical_dims
from .shape import (outside_range, plain_index, reduce_to, Reshape, Permute,
                    BroadcastTo, GetItem, IndexAdd, IndexPut, Repeat, Concatenate, Stack, concatenate, stack)
from .arithmetic import Add, Sub, Mul, Div, Neg, Pow
from .elementwise import Exp, Log, LogBase, Log1p, Expm1, Sqrt, Abs, Tanh, Sigmoid, ReLU, LeakyReLU, Softplus
from .special import Erf, GELU
from .trigonometric import Sin, Cos, Tan, Asin, Acos, Atan, Atan2, Sinh, Cosh, Asinh, Acosh, Atanh
from .rounding import Rounding
from .einsum import Einsum, einsum
from .select import Maximum, Minimum, Where, Clamp
from .reduce import Sum, Mean, Var, Max, Min, Norm2, CumSum, Prod
from .matmul import MatMul
from .softmax import Softmax, LogSoftmax
from .convert import ToDevice, Cast, Clone
