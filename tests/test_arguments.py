"""What every function of tinygrad_bn.functional, and so every layer, accepts: Tensors only
(an array or a list is a TypeError worded as torch's), and one dtype (torch refuses to mix
float64 or integer input with float32 parameters rather than promote silently)."""
import numpy as np
import pytest

import tinygrad_bn as tg
import tinygrad_bn.functional as F
from tinygrad_bn import nn

X = np.ones((4, 3), np.float32)


def t(a, device="cpu"):
    return tg.tensor(a, device=device)


W, B, C3 = np.ones((2, 3), np.float32), np.ones(2, np.float32), np.ones(3, np.float32)
LABELS = np.zeros(4, np.int64)

# (call with the argument under test set to ``v``, the function, the argument's name, its
# position, and a value for it that would be valid as a Tensor)
ARGUMENTS = [
    (lambda v, d: F.linear(v, t(W, d)), "linear", "input", 1, X),
    (lambda v, d: F.linear(t(X, d), v), "linear", "weight", 2, W),
    (lambda v, d: F.linear(t(X, d), t(W, d), v), "linear", "bias", 3, B),
    (lambda v, d: F.batch_norm(v, None, None, training=True), "batch_norm", "input", 1, X),
    (lambda v, d: F.batch_norm(t(X, d), v, t(C3, d)), "batch_norm", "running_mean", 2, C3),
    (lambda v, d: F.batch_norm(t(X, d), t(C3, d), v), "batch_norm", "running_var", 3, C3),
    (lambda v, d: F.batch_norm(t(X, d), None, None, v, training=True), "batch_norm", "weight", 4, C3),
    (lambda v, d: F.batch_norm(t(X, d), None, None, None, v, training=True), "batch_norm", "bias", 5, C3),
    (lambda v, d: F.sigmoid(v), "sigmoid", "input", 1, X),
    (lambda v, d: F.relu(v), "relu", "input", 1, X),
    (lambda v, d: F.tanh(v), "tanh", "input", 1, X),
    (lambda v, d: F.leaky_relu(v), "leaky_relu", "input", 1, X),
    (lambda v, d: F.softmax(v, 1), "softmax", "input", 1, X),
    (lambda v, d: F.log_softmax(v, 1), "log_softmax", "input", 1, X),
    (lambda v, d: F.dropout(v), "dropout", "input", 1, X),
    (lambda v, d: F.cross_entropy(v, t(LABELS, d)), "cross_entropy", "input", 1, X),
    (lambda v, d: F.cross_entropy(t(X, d), v), "cross_entropy", "target", 2, LABELS),
    (lambda v, d: F.cross_entropy(t(X, d), t(LABELS, d), v), "cross_entropy", "weight", 3, C3),
    (lambda v, d: F.nll_loss(v, t(LABELS, d)), "nll_loss", "input", 1, X),
    (lambda v, d: F.nll_loss(t(X, d), v), "nll_loss", "target", 2, LABELS),
    (lambda v, d: F.mse_loss(v, t(X, d)), "mse_loss", "input", 1, X),
    (lambda v, d: F.mse_loss(t(X, d), v), "mse_loss", "target", 2, X),
]
NOT_TENSORS = {"numpy.ndarray": lambda a: a, "list": lambda a: a.tolist()}


@pytest.mark.parametrize("kind", NOT_TENSORS)
@pytest.mark.parametrize("call, function, name, position, value", ARGUMENTS,
                         ids=lambda v: v if isinstance(v, str) else "")
def test_arrays_and_lists_are_type_errors(device, call, function, name, position, value, kind):
    # torch 2.13: F.linear(numpy_array, w) raises "linear(): argument 'input' (position 1) must be
    # Tensor, not numpy.ndarray"; targets and weights must be Tensors too
    call(t(value, device), device)                    # valid as a Tensor
    with pytest.raises(TypeError, match=rf"^{function}\(\): argument '{name}' \(position {position}\) "
                                        rf"must be Tensor, not {kind}$"):
        call(NOT_TENSORS[kind](value), device)


LAYERS = [nn.Linear(3, 2), nn.BatchNorm1d(3), nn.BatchNorm2d(3), nn.Conv2d(3, 2, 1), nn.MaxPool2d(2), nn.AvgPool2d(2),
          nn.AdaptiveAvgPool2d(1), nn.Sigmoid(), nn.ReLU(), nn.Tanh(), nn.LeakyReLU(), nn.Softmax(1),
          nn.LogSoftmax(1), nn.Dropout(), nn.Flatten()]


@pytest.mark.parametrize("layer", LAYERS, ids=lambda m: type(m).__name__)
def test_every_layer_refuses_an_array(device, layer):
    layer.to(device)
    with pytest.raises(TypeError, match=r"argument 'input' \(position 1\) must be Tensor, not numpy.ndarray"):
        layer(X)


@pytest.mark.parametrize("loss", [nn.CrossEntropyLoss(), nn.NLLLoss(), nn.MSELoss()], ids=lambda m: type(m).__name__)
def test_loss_modules_refuse_array_targets(device, loss):
    target = np.zeros((4, 3), np.float32) if isinstance(loss, nn.MSELoss) else np.zeros(4, np.int64)
    with pytest.raises(TypeError, match=r"argument 'target' \(position 2\) must be Tensor, not numpy.ndarray"):
        loss(t(X, device), target)


def test_identity_passes_anything_as_torch():
    assert nn.Identity()(X) is X          # torch 2.13: nn.Identity()(array) returns the array


def test_messages_match_torch():
    torch = pytest.importorskip("torch")
    for ours, theirs in [(lambda: F.linear(X, t(X)), lambda: torch.nn.functional.linear(X, torch.ones(3, 3))),
                         (lambda: F.relu([1.0]), lambda: torch.nn.functional.relu([1.0])),
                         (lambda: F.cross_entropy(t(X), [0, 1, 2, 0]),
                          lambda: torch.nn.functional.cross_entropy(torch.ones(4, 3), [0, 1, 2, 0]))]:
        with pytest.raises(TypeError) as mine:
            ours()
        with pytest.raises(TypeError) as reference:
            theirs()
        # torch names its C++ entry points (cross_entropy_loss) and says "Tensor": the words after ():
        assert str(mine.value).split("(): ")[1] == str(reference.value).split("(): ")[1]


# ------------------------------------------------------------------- dtypes
@pytest.mark.parametrize("dtype", [tg.float64, tg.int64])
def test_linear_refuses_another_dtype_than_its_weight(device, dtype):
    # torch 2.13: nn.Linear(3, 2)(x.double()) raises "mat1 and mat2 must have the same dtype, but got
    # Double and Float" (a RuntimeError); without the check NumPy would compute in float64
    layer = nn.Linear(3, 2).to(device)
    x = tg.ones(4, 3, dtype=dtype, device=device)
    with pytest.raises(RuntimeError, match=f"linear\\(\\): input and weight must have the same dtype, "
                                           f"but got {np.dtype(dtype)} and float32"):
        layer(x)
    with pytest.raises(RuntimeError, match="input and bias must have the same dtype, but got float32 and float64"):
        F.linear(tg.ones(4, 3, device=device), layer.weight, tg.zeros(2, dtype=tg.float64, device=device))
    assert layer.double()(tg.ones(4, 3, dtype=tg.float64, device=device)).dtype == np.float64


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_refuses_another_dtype_than_its_parameters_and_buffers(device, training):
    # torch 2.13: BatchNorm1d(3)(x.double()) raises "mixed dtype (CPU): all inputs must share same
    # datatype." (a RuntimeError), in training and in eval mode, and integer input is refused
    bn = nn.BatchNorm1d(3).to(device).train(training)
    for dtype in (tg.float64, tg.int64):
        with pytest.raises(RuntimeError, match=f"batch_norm\\(\\): input and running_mean must have the same "
                                               f"dtype, but got {np.dtype(dtype)} and float32"):
            bn(tg.ones(4, 3, dtype=dtype, device=device))
    assert bn.num_batches_tracked.item() == 0
    with pytest.raises(RuntimeError, match="input and weight must have the same dtype, but got float32 and float64"):
        F.batch_norm(tg.randn(4, 3, device=device), None, None, tg.ones(3, dtype=tg.float64, device=device),
                     training=True)
    with pytest.raises(RuntimeError, match="expected a floating point input, got int64"):
        F.batch_norm(tg.ones(4, 3, dtype=tg.int64, device=device), None, None, training=True)


def test_dtype_errors_are_runtime_errors_in_torch_too():
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match="must have the same dtype"):
        torch.nn.Linear(3, 2)(torch.ones(4, 3, dtype=torch.float64))
    with pytest.raises(RuntimeError, match="mixed dtype"):
        torch.nn.BatchNorm1d(3)(torch.ones(4, 3, dtype=torch.float64))
