"""Shared test set-up: Hypothesis profiles and the device fixture.

Every test that takes the ``device`` fixture runs once per device; without
CuPy or a GPU the "cuda" runs are skipped with the reason.  Choose the
Hypothesis profile with HYPOTHESIS_PROFILE=ci|dev|thorough (default: ci).
"""
import os

import pytest
from hypothesis import HealthCheck, settings

import tinygrad_bn as tg

# The device fixture is a plain string, so sharing it across the examples of
# a @given test is safe: its function-scoped-fixture health check is suppressed.
_SUPPRESSED = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
settings.register_profile("ci", max_examples=25, deadline=None, derandomize=True,
                          suppress_health_check=_SUPPRESSED)
settings.register_profile("dev", max_examples=40, deadline=None, suppress_health_check=_SUPPRESSED)
settings.register_profile("thorough", max_examples=500, deadline=None, suppress_health_check=_SUPPRESSED)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

_AVAILABLE = tg.available_devices()


@pytest.fixture(params=["cpu", "cuda"])
def device(request):
    """The device under test; "cuda" is skipped where CuPy or a GPU is missing."""
    if request.param not in _AVAILABLE:
        pytest.skip("device 'cuda' unavailable: CuPy or a CUDA GPU is missing")
    return request.param


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same library seed, and with no deferred GPU check
    left over from another test."""
    tg.manual_seed(0)
    tg.backend._deferred.clear()
    yield
