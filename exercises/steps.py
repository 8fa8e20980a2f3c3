"""The steps of the exercise checks: a first run of your code, then the test suite's properties.

A first run catches code that is not written yet, or crashes, on a small
input.  Every other step runs a property of tinygrad_bn/testing/bn_properties.py
(or the state machine of bn_running_stats.py) with the strategies the suite
draws it with, on the code being graded: a training-mode ``batch_norm(x,
weight, bias, eps)``, a BatchNorm1d class, or a recompute_population_stats.
"""
import numpy as np

from tinygrad_bn import nn, randn, tensor
from tinygrad_bn.testing import bn_properties as properties
from tinygrad_bn.testing.bn_cases import cases, make_case
from tinygrad_bn.testing.bn_properties import scales, seeds
from tinygrad_bn.testing.bn_running_stats import check_running_statistics

from .grading import CHECK_SETTINGS, Step, for_all

# ---- first runs

def runs(batch_norm):
    def run():
        x, weight, bias = make_case((4, 3), seed=0, affine=True).tensors()
        y = batch_norm(x, weight, bias)
        if getattr(y, "requires_grad", False):          # one that does not is reported by the steps after
            y.backward(tensor(np.random.default_rng(0).standard_normal(x.shape)))
    return Step("runs forward and backward on a (4, 3) input", run)


def runs_in_both_modes(layer):
    def run():
        bn = layer(3).double()
        x = make_case((4, 3), seed=0, affine=False).tensors()[0]
        bn(x)
        bn.eval()(x)
    return Step("runs in training and in eval mode on a (4, 3) input", run)


def runs_on_a_small_model(recompute):
    def run():
        model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
        recompute(model, [randn(4, 2), randn(4, 2)])
    return Step("runs on Linear(2, 3) -> BatchNorm1d(3) and two batches", run)


# ---- the properties

def one_node(batch_norm):
    def run():
        case = make_case((4, 3), seed=0, affine=True)
        x, weight, bias = case.tensors()
        node = batch_norm(x, weight, bias).grad_fn
        if node is None or not any(t is x for t in node.inputs):
            made_by = "no node" if node is None else f"{type(node).__name__}, whose inputs do not include x"
            properties.fail("the output should be made by one node whose inputs include x",
                            f"it is made by {made_by}", "graph", case)
    return Step("is one node of the graph: x goes straight into it", run)


def output_statistics(batch_norm):
    return Step("normalises each channel: output mean beta, variance gamma^2 s2/(s2 + eps)",
                for_all(lambda case: properties.check_output_statistics(batch_norm, case), case=cases()))


def gradient_identities(batch_norm):
    return Step("dx sums to 0 and is orthogonal to x_hat in each channel; dgamma = sum dy x_hat, "
                "dbeta = sum dy",
                for_all(lambda case, seed: properties.check_gradient_identities(batch_norm, case, seed),
                        case=cases(), seed=seeds))


def same_as(batch_norm, reference, name, order):
    derivatives = "first and second derivatives" if order == 2 else "first derivatives"
    return Step(f"equals {name} in output and {derivatives} (to 1e-9)",
                for_all(lambda case, seed: properties.check_same_as(batch_norm, reference, case, seed, order,
                                                                    reference_name=name),
                        case=cases(), seed=seeds))


def gradcheck(batch_norm):
    return Step("its gradients equal central differences (gradcheck, random upstream gradient)",
                for_all(lambda case: properties.check_gradcheck(batch_norm, case),
                        case=cases(max_elements=properties.GRADCHECK_ELEMENTS)))


def gradgradcheck(batch_norm):
    return Step("its second derivatives equal central differences (gradgradcheck)",
                for_all(lambda case: properties.check_gradgradcheck(batch_norm, case),
                        case=cases(max_elements=properties.GRADGRADCHECK_ELEMENTS)))


def shift_invariance(batch_norm):
    return Step("is shift invariant: BN(x + b) = BN(x), gradients included",
                for_all(lambda case, seed: properties.check_shift_invariance(batch_norm, case, seed),
                        case=cases(), seed=seeds))


def scale_invariance(batch_norm):
    return Step("is scale invariant (section 3.3): BN(u (aW)^T) = BN(u W^T), dL/d(aW) = dL/dW / a",
                for_all(lambda case, scale, seed: properties.check_scale_invariance(batch_norm, case, scale, seed),
                        case=cases(max_elements=properties.SCALE_INVARIANCE_ELEMENTS), scale=scales, seed=seeds))


def running_statistics(layer, dtype):
    return Step(f"{np.dtype(dtype).name}: its outputs, running_mean, running_var and num_batches_tracked "
                f"follow PyTorch's rules under any sequence of training steps, eval calls, resets and "
                f"momentum changes (None included)",
                lambda: check_running_statistics(layer, dtype=dtype, settings=CHECK_SETTINGS,
                                                 edge_cases=False))


def population_statistics(recompute):
    return Step("sets every BatchNorm1d to Algorithm 2's population statistics and leaves the rest of "
                "the model as it was",
                for_all(lambda arguments: properties.check_population_statistics(recompute, **arguments),
                        arguments=properties.population_cases()))
