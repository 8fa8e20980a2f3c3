"""Recurrent layers: RNN, LSTM, GRU and their one-step cells, as PyTorch's.

Each step is a few Linear maps and gates, written with the library's ops, so
backpropagation through time is the chain rule through the loop over steps.
With input x_t and state h (and the LSTM's cell c), for one layer:

    RNN    h' = tanh(W_ih x_t + b_ih + W_hh h + b_hh)              (or relu)
    LSTM   i, f, g, o = split(W_ih x_t + b_ih + W_hh h + b_hh)     (PyTorch's gate order)
           c' = sigmoid(f) c + sigmoid(i) tanh(g),  h' = sigmoid(o) tanh(c')
    GRU    r, z = sigmoid of the first two thirds of W_ih x_t + b_ih + W_hh h + b_hh
           n = tanh(W_in x_t + b_in + r (W_hn h + b_hn)),  h' = (1 - z) n + z h

Parameters are named and shaped as PyTorch's (``weight_ih_l0``, ``weight_hh_l0``,
``bias_ih_l0``, ``bias_hh_l0``, ``..._reverse`` for the backward direction), all
drawn from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), so a ``state_dict``
moves between the two libraries.
"""
import math

from .. import functional as F
from ..creation import zeros
from ..ops import concatenate, stack
from ..tensor import Tensor, float32
from .init import uniform_
from .module import Module, Parameter

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _cell_step(mode, x, state, w_ih, w_hh, b_ih, b_hh):
    """One step of one layer in one direction: the new state (h, or (h, c) for the LSTM)."""
    if mode == "LSTM":
        h, c = state
        i, f, g, o = (F.linear(x, w_ih, b_ih) + F.linear(h, w_hh, b_hh)).chunk(4, -1)
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        return o.sigmoid() * c.tanh(), c
    if mode == "GRU":
        x_r, x_z, x_n = F.linear(x, w_ih, b_ih).chunk(3, -1)
        h_r, h_z, h_n = F.linear(state, w_hh, b_hh).chunk(3, -1)
        r, z = (x_r + h_r).sigmoid(), (x_z + h_z).sigmoid()
        n = (x_n + r * h_n).tanh()
        return (1 - z) * n + z * state
    pre = F.linear(x, w_ih, b_ih) + F.linear(state, w_hh, b_hh)
    return pre.tanh() if mode == "RNN_TANH" else pre.relu()


def _check_input(name, x, input_size, batched_dims):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: input must be a Tensor, got {type(x).__name__}")
    if x.ndim not in (batched_dims - 1, batched_dims):
        raise ValueError(f"{name}: Expected input to be {batched_dims - 1}D or {batched_dims}D, got {x.ndim}D "
                         f"instead (shape {tuple(x.shape)})")
    if x.shape[-1] != input_size:
        raise RuntimeError(f"{name}: input.size(-1) must be equal to input_size. Expected {input_size}, "
                           f"got {x.shape[-1]}")


class _RNNBase(Module):
    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None):
        super().__init__()
        if not isinstance(hidden_size, int) or hidden_size <= 0:
            raise ValueError(f"hidden_size must be a positive integer, got {hidden_size!r}")
        if not isinstance(num_layers, int) or num_layers <= 0:
            raise ValueError(f"num_layers must be a positive integer, got {num_layers!r}")
        if not 0 <= dropout <= 1:
            raise ValueError(f"dropout should be a number in range [0, 1] representing the probability of an "
                             f"element being zeroed, got {dropout}")
        self.mode, self.input_size, self.hidden_size, self.num_layers = mode, input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout, self.bidirectional = bias, batch_first, float(dropout), bidirectional
        directions = 2 if bidirectional else 1
        gates = _GATES[mode] * hidden_size
        for layer in range(num_layers):
            for suffix in ("", "_reverse")[:directions]:
                width = input_size if layer == 0 else hidden_size * directions
                names = [f"weight_ih_l{layer}{suffix}", f"weight_hh_l{layer}{suffix}"]
                shapes = [(gates, width), (gates, hidden_size)]
                if bias:
                    names += [f"bias_ih_l{layer}{suffix}", f"bias_hh_l{layer}{suffix}"]
                    shapes += [(gates,), (gates,)]
                for name, shape in zip(names, shapes):
                    setattr(self, name, Parameter(zeros(shape, dtype=dtype or float32, device=device)))
        self.reset_parameters()

    def reset_parameters(self):
        """Every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as PyTorch's."""
        bound = 1 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            uniform_(p, -bound, bound)

    def _weights(self, layer, suffix):
        get = self._parameters.get
        return (get(f"weight_ih_l{layer}{suffix}"), get(f"weight_hh_l{layer}{suffix}"),
                get(f"bias_ih_l{layer}{suffix}"), get(f"bias_hh_l{layer}{suffix}"))

    def forward(self, input, hx=None):
        name = type(self).__name__
        _check_input(name, input, self.input_size, 3)
        batched = input.ndim == 3
        x = input if batched else input.unsqueeze(1)
        if self.batch_first and batched:
            x = x.transpose(0, 1)
        steps, batch = x.shape[0], x.shape[1]
        directions = 2 if self.bidirectional else 1
        states = self._initial_states(hx, batched, batch, directions, x)
        layer_input, finals = x, []
        for layer in range(self.num_layers):
            outputs = []
            for d, suffix in enumerate(("", "_reverse")[:directions]):
                state = states[layer * directions + d]
                weights = self._weights(layer, suffix)
                order = range(steps) if d == 0 else range(steps - 1, -1, -1)
                hs = [None] * steps
                for t in order:
                    state = _cell_step(self.mode, layer_input[t], state, *weights)
                    hs[t] = state[0] if self.mode == "LSTM" else state
                outputs.append(stack(hs))
                finals.append(state)
            layer_input = outputs[0] if directions == 1 else concatenate(outputs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout)
        output = layer_input.transpose(0, 1) if self.batch_first and batched else layer_input
        if self.mode == "LSTM":
            h_n, c_n = stack([h for h, _ in finals]), stack([c for _, c in finals])
            if not batched:
                return output.squeeze(1), (h_n.squeeze(1), c_n.squeeze(1))
            return output, (h_n, c_n)
        h_n = stack(finals)
        return (output.squeeze(1), h_n.squeeze(1)) if not batched else (output, h_n)

    def _initial_states(self, hx, batched, batch, directions, x):
        """Per (layer, direction): h (or (h, c)), zeros unless ``hx`` gives them."""
        count = self.num_layers * directions
        expected = (count, batch, self.hidden_size)

        def checked(t, what):
            t = t if batched else t.unsqueeze(1)
            if tuple(t.shape) != expected:
                raise RuntimeError(f"Expected {what} size {expected}, got {tuple(t.shape)}")
            return t

        if hx is None:
            zero = zeros(expected, dtype=x.dtype, device=x.device)
            return [(zero[k], zero[k]) if self.mode == "LSTM" else zero[k] for k in range(count)]
        if self.mode == "LSTM":
            if not isinstance(hx, tuple) or len(hx) != 2:
                raise TypeError("LSTM: hx must be a tuple (h_0, c_0)")
            h0, c0 = checked(hx[0], "hidden[0]"), checked(hx[1], "hidden[1]")
            return [(h0[k], c0[k]) for k in range(count)]
        h0 = checked(hx, "hidden")
        return [h0[k] for k in range(count)]

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if not self.bias:
            text += ", bias=False"
        if self.batch_first:
            text += ", batch_first=True"
        if self.dropout:
            text += f", dropout={self.dropout}"
        if self.bidirectional:
            text += ", bidirectional=True"
        return text


class RNN(_RNNBase):
    """An Elman network: h_t = tanh(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh) (or relu), over
    ``num_layers`` stacked layers, in one or both directions.  Input (L, N, input_size),
    or (N, L, input_size) with ``batch_first``, or unbatched (L, input_size); returns
    (output, h_n), output holding the last layer's h_t at every step."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size, num_layers,
                         bias, batch_first, dropout, bidirectional, device, dtype)
        self.nonlinearity = nonlinearity


class LSTM(_RNNBase):
    """Long short-term memory (Hochreiter & Schmidhuber, 1997), PyTorch's gates and
    arguments; returns (output, (h_n, c_n)).  ``hx`` is (h_0, c_0)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        if proj_size:
            raise NotImplementedError("LSTM: proj_size is not implemented")
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device, dtype)


class GRU(_RNNBase):
    """Gated recurrent unit (Cho et al., 2014), PyTorch's gates and arguments; returns (output, h_n)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device, dtype)


class _CellBase(Module):
    def __init__(self, mode, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__()
        self.mode, self.input_size, self.hidden_size, self.bias = mode, input_size, hidden_size, bias
        gates = _GATES[mode] * hidden_size
        dtype = dtype or float32
        self.weight_ih = Parameter(zeros((gates, input_size), dtype=dtype, device=device))
        self.weight_hh = Parameter(zeros((gates, hidden_size), dtype=dtype, device=device))
        if bias:
            self.bias_ih = Parameter(zeros((gates,), dtype=dtype, device=device))
            self.bias_hh = Parameter(zeros((gates,), dtype=dtype, device=device))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        bound = 1 / math.sqrt(hidden_size)
        for p in self.parameters():
            uniform_(p, -bound, bound)

    def forward(self, input, hx=None):
        name = type(self).__name__
        _check_input(name, input, self.input_size, 2)
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        if hx is None:
            zero = zeros((x.shape[0], self.hidden_size), dtype=x.dtype, device=x.device)
            hx = (zero, zero) if self.mode == "LSTM" else zero
        elif not batched:
            hx = tuple(h.unsqueeze(0) for h in hx) if self.mode == "LSTM" else hx.unsqueeze(0)
        state = _cell_step(self.mode, x, hx, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        if batched:
            return state
        return tuple(s.squeeze(0) for s in state) if self.mode == "LSTM" else state.squeeze(0)

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            text += ", bias=False"
        if self.mode == "RNN_RELU":
            text += ", nonlinearity=relu"
        return text


class RNNCell(_CellBase):
    """One step of ``RNN``: h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu)."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}. Expected 'tanh' or 'relu'.")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size, bias,
                         device, dtype)
        self.nonlinearity = nonlinearity


class LSTMCell(_CellBase):
    """One step of ``LSTM``: returns (h', c') from input and (h, c)."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, bias, device, dtype)


class GRUCell(_CellBase):
    """One step of ``GRU``: returns h'."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, bias, device, dtype)
