"""Grading an exercise: the test suite's properties, run on your code, reported in your terms.

A check is a list of steps, each a claim and a function that raises when the
claim is false.  ``grade`` runs them in order and stops at the first that
fails, so there is one thing to fix at a time.  Its report says which claim
failed, for which input, what came out against what should have, and where
in your code to look; once every step passes, the same list says what was
established.

``for_all(prop, **strategies)`` turns a property into a step: Hypothesis
draws EXAMPLES inputs (the same ones on every run), and a failure is shrunk
to a small input before it is reported.
"""
import inspect
import os
import sys
import textwrap
import traceback
from dataclasses import dataclass
from typing import Callable

from hypothesis import HealthCheck, Phase, Verbosity, given, settings

from tinygrad_bn.testing.bn_properties import PropertyFailure

EXAMPLES = 25
# The same EXAMPLES inputs on every run, one failure reported, and no "explain"
# phase (it reruns a failure hundreds of times to annotate a traceback you never see).
CHECK_SETTINGS = settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                          print_blob=False, report_multiple_bugs=False, verbosity=Verbosity.quiet,
                          suppress_health_check=list(HealthCheck), stateful_step_count=20,
                          phases=[Phase.explicit, Phase.generate, Phase.shrink])
WIDTH = 100


@dataclass
class Step:
    claim: str                  # what holds once the step passes
    run: Callable[[], None]     # raises when it does not


@dataclass
class Report:
    """What a check found; true when every step passed.  Printing it (or leaving
    it as a notebook cell's last value) shows the text."""
    passed: bool
    text: str

    def __bool__(self):
        return self.passed

    def __str__(self):
        return self.text

    __repr__ = __str__


def for_all(prop, **strategies):
    """A step's run: ``prop(**drawn)`` for EXAMPLES draws of the strategies.  An
    error that is not a property failure (your code raised) is reported with the input."""
    @CHECK_SETTINGS
    @given(**strategies)
    def run(**drawn):
        try:
            prop(**drawn)
        except (PropertyFailure, NotImplementedError):
            raise
        except Exception as error:
            described = ", ".join(v.describe() if hasattr(v, "describe") else f"{k} = {v!r}"
                                  for k, v in drawn.items())
            case = next((v for v in drawn.values() if hasattr(v, "recipe")), None)
            raise PropertyFailure(f"{type(error).__name__}: {error}; for {described}", "crash", case) from error
    return run


def _source_of(subject):
    try:
        return os.path.abspath(inspect.getsourcefile(subject))
    except TypeError:
        return None


def _shown(subject):
    """exercises/composed.py for exercises.composed, also when run with python -m;
    'your notebook' for code defined in one."""
    module = sys.modules.get(subject.__module__)
    spec = getattr(module, "__spec__", None)
    return "your notebook" if spec is None else spec.name.replace(".", "/") + ".py"


def _your_line(error, source, shown):
    """The last line of ``source`` in the tracebacks of error and its causes."""
    found = None
    while error is not None:
        for frame in traceback.extract_tb(error.__traceback__):
            if source is not None and os.path.abspath(frame.filename) == source:
                found = f"{shown}, line {frame.lineno}, in {frame.name}: {frame.line}"
        error = error.__cause__ or error.__context__
    return found


def _wrapped(label, text):
    """``text`` filled to WIDTH, after ``label`` in the margin ('  FAILED  2. the claim')
    or, without one, indented under the claim."""
    return textwrap.fill(text, WIDTH, initial_indent=f"  {label:<8}" if label else " " * 13,
                         subsequent_indent=" " * 13)


def _failure(number, step, error, source, shown, points_at):
    """The lines of a failed step: the claim, what came out, where to look, how to rerun it."""
    if isinstance(error, NotImplementedError):
        return [_wrapped("not yet", f"{number}. {step.claim}"), _wrapped("", f"not written yet: {error}")]
    found = str(error) if isinstance(error, PropertyFailure) else f"{type(error).__name__}: {error}"
    lines = [_wrapped("FAILED", f"{number}. {step.claim}"), _wrapped("", found)]
    quantity = getattr(error, "quantity", "crash")
    where = _your_line(error, source, shown) if quantity == "crash" else points_at.get(quantity)
    if where:
        lines.append(_wrapped("", f"look at: {where}"))
    case = getattr(error, "case", None)
    if case is not None and case.recipe():
        lines.append(_wrapped("", f"rerun it: x, weight, bias = {case.recipe()}.tensors(), with "
                                  f"make_case from tinygrad_bn.testing.bn_cases"))
    return lines


def grade(title, subject, steps, points_at):
    """Run the steps in order, stopping at the first that fails, and report.
    ``subject`` is what is graded (a function or class: where an error in it
    happened is shown from its file); ``points_at`` maps a PropertyFailure's
    quantity ("output", "dx", ...) to the part of the code it concerns."""
    source, shown = _source_of(subject), _shown(subject)
    lines = [f"{title}: {subject.__qualname__} in {shown}"]
    for number, step in enumerate(steps, 1):
        try:
            step.run()
        except Exception as error:
            lines += _failure(number, step, error, source, shown, points_at)
            lines += [_wrapped("-", f"{later}. {s.claim}") for later, s in enumerate(steps[number:], number + 1)]
            return Report(False, "\n".join(lines))
        lines.append(_wrapped("ok", f"{number}. {step.claim}"))
    lines.append(textwrap.fill(f"Passed: every claim held on every input drawn ({EXAMPLES} per property). That "
                               f"is strong evidence, not a proof: docs/exercises.md says what it leaves out.", WIDTH))
    return Report(True, "\n".join(lines))
