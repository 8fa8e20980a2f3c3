"""RNN, LSTM, GRU and their cells: the recurrences written out in NumPy, gradcheck
through time, PyTorch's shapes, names, arguments and errors, and torch itself."""
import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import nn


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def numpy_layer(mode, x, h, c, w_ih, w_hh, b_ih, b_hh):
    """The recurrence over the steps of x (L, N, in) for one layer and direction."""
    outputs = []
    for x_t in x:
        if mode == "LSTM":
            i, f, g, o = np.split(x_t @ w_ih.T + b_ih + h @ w_hh.T + b_hh, 4, axis=-1)
            c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
            h = sigmoid(o) * np.tanh(c)
        elif mode == "GRU":
            x_r, x_z, x_n = np.split(x_t @ w_ih.T + b_ih, 3, axis=-1)
            h_r, h_z, h_n = np.split(h @ w_hh.T + b_hh, 3, axis=-1)
            r, z = sigmoid(x_r + h_r), sigmoid(x_z + h_z)
            h = (1 - z) * np.tanh(x_n + r * h_n) + z * h
        else:
            h = np.tanh(x_t @ w_ih.T + b_ih + h @ w_hh.T + b_hh)
        outputs.append(h)
    return np.stack(outputs), h, c


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_one_layer_follows_the_recurrence(device, cls):
    tg.manual_seed(0)
    layer = getattr(nn, cls)(3, 4).to(device)
    x = np.random.default_rng(1).normal(size=(5, 2, 3)).astype(np.float32)
    result = layer(tg.tensor(x, device=device))
    output, h_n = result[0], (result[1][0] if cls == "LSTM" else result[1])
    w = {name: p.detach().cpu().numpy() for name, p in layer.named_parameters()}
    zero = np.zeros((2, 4), np.float32)
    expected, h, _ = numpy_layer(cls, x, zero, zero, w["weight_ih_l0"], w["weight_hh_l0"], w["bias_ih_l0"],
                                 w["bias_hh_l0"])
    np.testing.assert_allclose(output.detach().cpu().numpy(), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h_n.detach().cpu().numpy()[0], h, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_gradients_through_time(device, cls):
    """gradcheck in float64 through 3 steps of a 2-layer bidirectional network, with respect to
    the input and one weight of each layer."""
    tg.manual_seed(0)
    layer = getattr(nn, cls)(2, 2, num_layers=2, bidirectional=True).to(device, dtype=tg.float64)
    x = tg.randn(3, 1, 2, dtype=tg.float64, device=device, requires_grad=True)
    weights = [layer.weight_hh_l0, layer.weight_ih_l1_reverse]

    def run(x, *_):
        result = layer(x)
        return result[0] * 1 + (result[1][1] if cls == "LSTM" else result[1]).sum()
    assert tg.gradcheck(run, [x, *weights])


def test_shapes_batch_first_unbatched_and_initial_states(device):
    tg.manual_seed(0)
    lstm = nn.LSTM(3, 5, num_layers=2, batch_first=True, bidirectional=True).to(device)
    x = tg.randn(4, 7, 3, device=device)
    output, (h_n, c_n) = lstm(x)
    assert output.shape == (4, 7, 10) and h_n.shape == (4, 4, 5) and c_n.shape == (4, 4, 5)
    again, _ = lstm(x, (h_n, c_n))
    assert again.shape == (4, 7, 10)
    gru = nn.GRU(3, 5).to(device)
    output, h_n = gru(tg.randn(6, 3, device=device))                    # unbatched: (L, in)
    assert output.shape == (6, 5) and h_n.shape == (1, 5)
    cell = nn.LSTMCell(3, 5).to(device)
    h, c = cell(tg.randn(2, 3, device=device))
    assert h.shape == c.shape == (2, 5) and cell(tg.randn(3, device=device))[0].shape == (5,)
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(1, 3, 5\), got \(1, 2, 5\)"):
        gru(tg.randn(6, 3, 3, device=device), tg.zeros(1, 2, 5, device=device))
    with pytest.raises(RuntimeError, match="input.size\\(-1\\) must be equal to input_size. Expected 3, got 4"):
        gru(tg.randn(6, 2, 4, device=device))
    with pytest.raises(ValueError, match="Expected input to be 2D or 3D, got 4D"):
        gru(tg.randn(6, 2, 3, 1, device=device))


def test_final_state_of_the_reverse_direction_is_its_step_at_time_zero(device):
    tg.manual_seed(0)
    rnn = nn.RNN(2, 3, bidirectional=True).to(device)
    output, h_n = rnn(tg.randn(4, 1, 2, device=device))
    np.testing.assert_allclose(h_n[1].detach().cpu().numpy(), output[0, :, 3:].detach().cpu().numpy())
    np.testing.assert_allclose(h_n[0].detach().cpu().numpy(), output[-1, :, :3].detach().cpu().numpy())


def test_dropout_between_layers_only_in_training(device):
    tg.manual_seed(0)
    lstm = nn.LSTM(3, 4, num_layers=2, dropout=0.5).to(device)
    x = tg.randn(5, 2, 3, device=device)
    lstm.eval()
    assert lstm(x)[0].tolist() == lstm(x)[0].tolist()
    lstm.train()
    assert lstm(x)[0].tolist() != lstm(x)[0].tolist()
    with pytest.raises(ValueError, match="dropout should be a number in range"):
        nn.LSTM(3, 4, dropout=1.5)
    with pytest.raises(ValueError, match="Unknown nonlinearity"):
        nn.RNN(3, 4, nonlinearity="gelu")


@pytest.mark.parametrize("cls,kwargs", [("RNN", {}), ("RNN", {"nonlinearity": "relu", "num_layers": 2}),
                                        ("LSTM", {"num_layers": 2, "bidirectional": True}),
                                        ("LSTM", {"batch_first": True, "bias": False}),
                                        ("GRU", {"bidirectional": True}), ("GRU", {"num_layers": 3})])
def test_the_same_as_torch(cls, kwargs):
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(nn, cls)(3, 4, **kwargs), getattr(torch.nn, cls)(3, 4, **kwargs)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert repr(ours) == repr(theirs)
    theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(0).normal(size=(5, 2, 3))
    xo, xt = tg.tensor(x, dtype=tg.float32, requires_grad=True), torch.tensor(x, dtype=torch.float32, requires_grad=True)
    (yo, ho), (yt, ht) = ours(xo), theirs(xt)
    ho, ht = (ho[1], ht[1]) if cls == "LSTM" else (ho, ht)
    upstream = np.random.default_rng(1).normal(size=tuple(yt.shape)).astype(np.float32)
    ((yo * tg.tensor(upstream)).sum() + ho.sum()).backward()
    ((yt * torch.tensor(upstream)).sum() + ht.sum()).backward()
    np.testing.assert_allclose(yo.detach().numpy(), yt.detach().numpy(), atol=2e-6)
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), atol=2e-5)
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), dict(theirs.named_parameters())[name].grad.numpy(), atol=1e-4)


@pytest.mark.parametrize("cls", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_the_same_as_torch(cls):
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(nn, cls)(3, 4), getattr(torch.nn, cls)(3, 4)
    theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(0).normal(size=(2, 3)).astype(np.float32)
    o, t = ours(tg.tensor(x)), theirs(torch.tensor(x))
    o, t = (o[1], t[1]) if cls == "LSTMCell" else (o, t)
    np.testing.assert_allclose(o.detach().numpy(), t.detach().numpy(), atol=1e-6)
    assert repr(ours) == repr(theirs)
