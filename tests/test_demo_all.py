"""demos/all.py: the plan follows the data that is present, --check asserts the documented quick-run
claims, and --seeds reports median and range."""
import json
from pathlib import Path

import importlib

import pytest

import tinygrad_bn as tg
from demos import all as all_demos

DOCS = Path(__file__).resolve().parents[1] / "docs"
TEST_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
TRAIN_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")


def test_plan_includes_mnist_runs_only_where_the_files_are(tmp_path):
    empty, test_only = tmp_path / "empty", tmp_path / "t10k"
    empty.mkdir()
    test_only.mkdir()
    for name in TEST_FILES:                      # presence is what the plan looks at
        (test_only / name).touch()
    without = [name for _, name, _ in all_demos.runs(empty)]
    assert without[:2] == ["ioffe_fig1_digits_lr0.5", "ioffe_fig1_digits_lr0.01"]
    assert not any("mnist" in name for name in without)
    assert set(all_demos.DEMOS) <= set(without) and "learning_speed_nielsen" in without
    plan = {name: flags for _, name, flags in all_demos.runs(test_only)}
    assert "ioffe_fig1_mnist-t10k_lr0.01" in plan and "ioffe_fig1_mnist_lr0.5" not in plan
    assert plan["learning_speed"][:2] == ["--dataset", "mnist-t10k"]
    assert all("--population-stats" in flags for name, flags in plan.items() if name.startswith("ioffe"))
    for name in TRAIN_FILES:
        (test_only / name).touch()
    assert "ioffe_fig1_mnist_lr0.5" in [name for _, name, _ in all_demos.runs(test_only)]


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    """One ``--check`` run: every demo's quick mode on digits, every documented quick-run claim asserted."""
    out = tmp_path_factory.mktemp("check")
    all_demos.main(["--check", "--out", str(out)])
    return out


def test_check_runs_every_demo_quickly_and_every_claim_holds(checked):
    for module_name, name, _ in all_demos.quick_plan():
        record = json.loads((checked / name / f"{module_name}.json").read_text())
        assert record["config"]["quick"] and record["config"]["seed"] == 0


@pytest.fixture(scope="module")
def checked_on_cuda(tmp_path_factory):
    """The same ``--check`` run with every demo on "cuda"."""
    if "cuda" not in tg.available_devices():
        pytest.skip("device 'cuda' unavailable: CuPy or a CUDA GPU is missing")
    out = tmp_path_factory.mktemp("check_cuda")
    all_demos.main(["--check", "--device", "cuda", "--out", str(out)])
    return out


def test_every_demo_on_the_gpu_keeps_its_claims_and_on_the_stand_in_the_cpus_numbers(checked, checked_on_cuda):
    """Every demo runs on "cuda" and its quick-run claims hold there (the check above
    raises otherwise).  The strict CuPy stand-in computes with NumPy in the same order,
    so there each headline number must be the CPU run's exactly; on a real GPU,
    float32 rounding differs, and only the claims are asserted."""
    on_stand_in = hasattr(tg.backend.xp_of("cuda"), "_fake")          # shared/fakecupy marks itself
    for module_name, name, _ in all_demos.quick_plan():
        cpu, gpu = (json.loads((out / name / f"{module_name}.json").read_text()) for out in (checked, checked_on_cuda))
        assert gpu["config"]["device"] == "cuda" and cpu["config"]["device"] == "cpu"
        if on_stand_in:
            headline = importlib.import_module(f"demos.{module_name}").headline
            assert headline(gpu) == headline(cpu), name


def test_every_checked_claim_is_documented(checked):
    docs = " ".join((DOCS / page).read_text() for page in ("demos.md", "reproduction.md"))
    records = [(module_name, json.loads((checked / name / f"{module_name}.json").read_text()))
               for module_name, name, _ in all_demos.quick_plan()]
    claims = [claim for claim, _ in all_demos.check(records)]
    assert len(claims) >= 15
    missing = [claim for claim in claims if claim not in docs]
    assert not missing, missing


def test_a_failing_claim_fails_the_check(tmp_path, monkeypatch):
    from demos import lr_stress_test
    monkeypatch.setattr(all_demos, "quick_plan", lambda: [("lr_stress_test", "stress", ["--dataset", "digits"])])
    monkeypatch.setattr(lr_stress_test, "quick_claims", lambda record: {"an impossible claim": False})
    with pytest.raises(SystemExit, match="1 documented quick-run claim"):
        all_demos.main(["--check", "--out", str(tmp_path)])


def test_seeds_give_median_and_range(tmp_path, monkeypatch):
    monkeypatch.setattr(all_demos, "runs", lambda root: [("lr_stress_test", "stress", ["--dataset", "digits"])])
    summary = all_demos.main(["--quick", "--seeds", "3", "4", "--out", str(tmp_path)])
    assert (tmp_path / "stress" / "seed3" / "lr_stress_test.png").exists()
    assert '"seed": 4' in (tmp_path / "stress" / "seed4" / "lr_stress_test.json").read_text()
    ratio = summary["stress"]["plain best training accuracy"]
    assert ratio["runs"] == 2 and ratio["min"] <= ratio["median"] <= ratio["max"]
    assert json.loads((tmp_path / "seeds_summary.json").read_text())["seeds"] == [3, 4]


def test_spread_ignores_runs_without_the_event():
    assert all_demos.spread([1.0, None, 3.0]) == {"values": [1.0, None, 3.0], "runs": 3, "runs_with_a_value": 2,
                                                  "median": 2.0, "min": 1.0, "max": 3.0}
