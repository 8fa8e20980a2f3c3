"""First end-to-end checks of the engine against hand-computed values."""
import numpy as np

import tinygrad_bn as tg


def test_product_rule_by_hand(device):
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True, device=device)
    y = tg.tensor([4.0, 5.0, 6.0], requires_grad=True, device=device)
    (x * y).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 5.0, 6.0])
    np.testing.assert_array_equal(y.grad.numpy(), [1.0, 2.0, 3.0])


def test_quickstart_demo_learns():
    from demos.quickstart import main
    assert main(steps=1200) > 0.8
