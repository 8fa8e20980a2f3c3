"""The exercises: every stub fails its check and says what to write; every check
passes with the library's own code and with attempts written from the hints;
mistakes students make are caught, reported with an input that reproduces
them and pointed at the right part of the code; the notebook runs to the end."""
import inspect
import re
import runpy
from pathlib import Path

import pytest

import exercise_attempts as attempts
from exercises import composed, fused, population_stats, running_stats
from tinygrad_bn import nn
from tinygrad_bn.nn.batchnorm_reference import batch_norm_composed
from tinygrad_bn.testing import bn_properties
from tinygrad_bn.testing.bn_cases import make_case

LIBRARY = {composed: batch_norm_composed, fused: bn_properties.fused, running_stats: nn.BatchNorm1d,
           population_stats: nn.recompute_population_stats}
SUBJECT = {composed: "batch_norm_composed", fused: "batch_norm_fused", running_stats: "BatchNorm1d",
           population_stats: "recompute_population_stats"}
EXERCISES = pytest.mark.parametrize("exercise", list(LIBRARY), ids=lambda module: module.__name__)
NOTEBOOK = Path(__file__).parent.parent / "exercises" / "build_batchnorm.py"


def claims(report):
    """The numbered claims of a report, with their status: [('ok', 1), ('FAILED', 2), ('-', 3)]."""
    return [(status, int(number)) for status, number in re.findall(r"^  (ok|FAILED|not yet|-)\s+(\d+)\.",
                                                                     str(report), re.M)]


def one_line(report):
    return " ".join(str(report).split())


def looked_at(report):
    """What the report's 'look at:' line says (up to the next line of the report)."""
    return re.search(r"look at: (.*?)(?: rerun it:| - +\d+\.|$)", one_line(report)).group(1)


def run_the_stub(exercise):
    """What an exercise's stub is for, once, on a small input."""
    x, weight, bias = make_case((4, 3), seed=0, affine=True).tensors()
    if exercise is running_stats:
        running_stats.BatchNorm1d(3).double()(x)
    elif exercise is population_stats:
        population_stats.recompute_population_stats(nn.Sequential(nn.BatchNorm1d(3).double()), [x])
    else:
        getattr(exercise, SUBJECT[exercise])(x, weight, bias)


@EXERCISES
def test_each_stub_fails_its_check_and_quotes_its_hint(exercise):
    with pytest.raises(NotImplementedError) as stub:
        run_the_stub(exercise)
    hint = " ".join(str(stub.value).split())
    assert hint.startswith(f"exercises/{exercise.__name__.split('.')[-1]}.py, ")
    report = exercise.check()
    status = claims(report)
    assert not report and status[0] == ("not yet", 1)
    assert len(status) > 1 and all(s == "-" for s, _ in status[1:])        # the claims still to come
    assert f"not written yet: {hint}" in one_line(report)


@EXERCISES
def test_each_check_passes_with_the_library_s_own_code(exercise):
    report = exercise.check(LIBRARY[exercise])
    status = claims(report)
    assert report and len(status) > 1 and all(s == "ok" for s, _ in status), str(report)
    assert "Passed" in str(report)


@pytest.mark.parametrize("exercise, attempt", [
    (fused, attempts.fused_with(attempts.BatchNorm)),
    (running_stats, attempts.BatchNorm1d),
    (population_stats, attempts.recompute_population_stats),
], ids=["fused", "running_stats", "population_stats"])
def test_an_attempt_written_from_the_hints_passes(exercise, attempt):
    report = exercise.check(attempt)
    assert report, str(report)


def rerun_case(report):
    """The case the report's 'rerun it' line names, made again."""
    shape, seed, affine = re.search(r"make_case\((\([\d, ]+\)), seed=(\d+), affine=(True|False)\)",
                                    str(report)).groups()
    return make_case(tuple(int(n) for n in re.findall(r"\d+", shape)), int(seed), affine == "True")


@pytest.mark.parametrize("exercise, attempt, step, found, look_at, reproduce", [
    (composed, attempts.unbiased_variance, 2, "channel 0 has variance", "the value batch_norm_composed returns",
     lambda bn, case: bn_properties.check_output_statistics(bn, case)),
    (composed, attempts.constant_mean, 3, "dx at element", "a step autograd did not see",
     lambda bn, case: bn_properties.check_gradcheck(bn, case)),
    (fused, attempts.fused_with(attempts.ForgetsDbetaOverM), 4, "dx should sum to 0",
     "dx, the first gradient it returns", lambda bn, case: bn_properties.check_gradcheck(bn, case)),
    (fused, attempts.fused_with(attempts.BackwardOnArrays), 7, "autograd gives 0",
     "it must be differentiable itself", lambda bn, case: bn_properties.check_gradgradcheck(bn, case)),
    (fused, batch_norm_composed, 2, "made by Add, whose inputs do not include x",
     "batch_norm_fused should return BatchNorm.apply", None),
], ids=["unbiased variance", "constant mean", "forgets dbeta/m", "backward on arrays", "not fused"])
def test_a_mistake_fails_at_its_step_with_an_input_that_reproduces_it(exercise, attempt, step, found, look_at,
                                                                      reproduce):
    report = exercise.check(attempt)
    assert not report and ("FAILED", step) in claims(report), str(report)
    assert found in one_line(report) and look_at in looked_at(report), str(report)
    if reproduce is not None:                      # the input the report names fails again, on its own
        with pytest.raises(bn_properties.PropertyFailure):
            reproduce(attempt, rerun_case(report))


@pytest.mark.parametrize("exercise, attempt, step, found, look_at", [
    (running_stats, attempts.BiasedRunningVar, 2,
     ["BiasedRunningVar(", "in float64 -> training on a batch of shape", "channel 0 has running_var"],
     "the update of self.running_var"),
    (running_stats, attempts.RunningMeanInFloat64, 3,
     ["running_mean should stay float32; for RunningMeanInFloat64(", "in float32 -> training on a batch"],
     "the update of self.running_mean"),
    (population_stats, attempts.keeps_old_statistics, 2, ["in eval mode and 1 batch(es)", "layer model[1], channel"],
     "nothing left of the statistics it had before"),
], ids=["biased running variance", "float64 running mean", "old statistics kept"])
def test_a_mistake_in_the_running_statistics_is_named_with_the_steps_to_it(exercise, attempt, step, found, look_at):
    report = exercise.check(attempt)
    assert not report and ("FAILED", step) in claims(report), str(report)
    assert all(part in one_line(report) for part in found) and look_at in looked_at(report), str(report)


def test_an_error_in_the_code_is_shown_at_its_line():
    report = composed.check(attempts.assumes_3d)
    source, first = inspect.getsourcelines(attempts.assumes_3d)
    line = first + next(i for i, text in enumerate(source) if "x.sum(axis=(0, 2)" in text)
    assert claims(report)[0] == ("FAILED", 1)
    assert looked_at(report).startswith(f"exercise_attempts.py, line {line}, in assumes_3d")


def test_the_notebook_runs_to_the_end_with_the_library_s_solutions(monkeypatch, capsys):
    """Executes exercises/build_batchnorm.py, the text of the notebook, top to bottom in
    one namespace, as a kernel runs its cells, with each exercise solved by the library."""
    for exercise, solution in LIBRARY.items():
        monkeypatch.setattr(exercise, SUBJECT[exercise], solution)
    runpy.run_path(str(NOTEBOOK), run_name="__main__")
    out = capsys.readouterr().out
    assert out.count("\nPassed: every claim held") == 4
    assert "gradcheck: True" in out and "gradgradcheck: True" in out
    assert "gradcheck of constant_mean: gradcheck: gradient of input 0" in out
    rows = re.findall(r"^\| \((\d+), 100\) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|$", out, re.M)
    assert [int(r[0]) for r in rows] == [64, 256, 1024]
    assert all(float(r[1]) > 0 and float(r[2]) > 0 for r in rows)
