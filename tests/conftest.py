"""Shared test set-up: Hypothesis profiles and the device fixture.

Every test that takes the ``device`` fixture runs once per device.  Where CuPy
is not installed but the strict CuPy stand-in ``shared/fakecupy`` sits beside
the checkout, the "cuda" runs go through it (set TINYGRAD_BN_FAKECUPY=0 to
skip them instead); without either, or with CuPy but no GPU, they are skipped
with the reason.  Choose the Hypothesis profile with
HYPOTHESIS_PROFILE=ci|dev|thorough (default: ci).
"""
import importlib.util
import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

STAND_IN = Path(__file__).resolve().parents[2] / "shared" / "fakecupy"
USES_STAND_IN = (importlib.util.find_spec("cupy") is None and (STAND_IN / "cupy").is_dir()
                 and os.environ.get("TINYGRAD_BN_FAKECUPY", "1") != "0")
if USES_STAND_IN:       # for this process, and through PYTHONPATH for the subprocesses some tests start
    sys.path.insert(0, str(STAND_IN))
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(STAND_IN), os.environ.get("PYTHONPATH")]))

import tinygrad_bn as tg  # noqa: E402

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


def pytest_terminal_summary(terminalreporter):
    """Say, even under -q, what the "cuda" cases ran on."""
    if USES_STAND_IN:
        terminalreporter.write_line(f"device 'cuda' ran on the strict CuPy stand-in in {STAND_IN} "
                                    "(NumPy underneath: no GPU was used)")
    elif "cuda" in _AVAILABLE:
        terminalreporter.write_line("device 'cuda' ran on a GPU through CuPy")
