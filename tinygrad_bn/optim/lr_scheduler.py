"""Learning-rate schedules: call ``scheduler.step()`` once per epoch (OneCycleLR:
once per batch), after ``optimizer.step()``.

As in PyTorch, building a scheduler records each group's ``initial_lr`` and
counts as epoch 0; every ``step()`` moves to the next epoch and writes the new
rate into ``optimizer.param_groups[i]["lr"]``.  ``state_dict()`` holds
everything the scheduler remembers except the optimizer; to resume, build the
optimizer and the scheduler, then load the optimizer's state and the scheduler's.
"""
import bisect
import copy
import math
import types
from collections import Counter

from .optimizer import Optimizer


def _check_optimizer(optimizer):
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")


def _per_group(name, optimizer, value):
    """One value per parameter group: ``value`` itself if it is a list or tuple (checked), else repeated."""
    groups = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != groups:
            raise ValueError(f"{name} must have the same length as optimizer.param_groups. "
                             f"{name} has {len(value)} values, param_groups has {groups}.")
        return list(value)
    return [value] * groups


def _check_modes(mode, threshold_mode):
    if mode not in ("min", "max"):
        raise ValueError(f"mode {mode} is unknown! (expected 'min' or 'max')")
    if threshold_mode not in ("rel", "abs"):
        raise ValueError(f"threshold mode {threshold_mode} is unknown! (expected 'rel' or 'abs')")


class LRScheduler:
    """Base class: subclasses define ``get_lr()``, the rates for ``self.last_epoch``.

    ``get_lr`` may read the rates the optimizer has now (the schedules written
    as "multiply the rate by ...", which compose with other changes to it) or
    only ``base_lrs`` (the closed forms).  During the step made by the
    constructor ``_is_initial`` is True.
    """

    _unsaved = ("optimizer",)      # attributes that state_dict() leaves out

    def __init__(self, optimizer, last_epoch=-1):
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        for i, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError(f"param 'initial_lr' is not specified in param_groups[{i}] when resuming a "
                               f"scheduler at last_epoch={last_epoch}")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._is_initial = True
        self.step()
        self._is_initial = False

    def get_lr(self):
        raise NotImplementedError

    def get_last_lr(self):
        """The rates the last ``step()`` set, one per parameter group."""
        return list(self._last_lr)

    def step(self):
        """Advance one epoch and set the optimizer's rates for it (a step that raises changes nothing)."""
        self.last_epoch += 1
        try:
            lrs = self.get_lr()
        except Exception:
            self.last_epoch -= 1
            raise
        self._set_lrs(lrs)

    def _set_lrs(self, lrs):
        """Write one rate per parameter group into the optimizer and remember them."""
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _restart(self):
        """Start again at epoch 0 from the base rates (``SequentialLR`` at a milestone): the
        closed form where the schedule has one (``_closed_form``), else ``get_lr``, as PyTorch's
        ``step(0)``."""
        self.last_epoch = 0
        closed_form = getattr(self, "_closed_form", None)
        self._set_lrs(closed_form() if closed_form is not None else self.get_lr())

    def state_dict(self):
        """A copy of everything the scheduler remembers (its ``__dict__``), except the optimizer."""
        return {key: copy.deepcopy(value) for key, value in self.__dict__.items() if key not in self._unsaved}

    def load_state_dict(self, state_dict):
        """Take the state ``state_dict()`` returned (copied; checked first, so an error changes nothing)."""
        name = type(self).__name__
        expected = set(self.__dict__) - set(self._unsaved)
        if set(state_dict) != expected:
            raise ValueError(f"{name}.load_state_dict: the keys {sorted(set(state_dict) ^ expected)} are "
                             f"missing or unknown; expected the keys of {name}.state_dict(): {sorted(expected)}")
        groups = len(self.optimizer.param_groups)
        if len(state_dict["_last_lr"]) != groups:
            raise ValueError(f"{name}.load_state_dict: saved for {len(state_dict['_last_lr'])} parameter groups, "
                             f"but the optimizer has {groups}")
        self.__dict__.update(copy.deepcopy(state_dict))


class StepLR(LRScheduler):
    """Multiply the rate by ``gamma`` every ``step_size`` epochs: lr = base_lr * gamma^(epoch // step_size)."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        if not isinstance(step_size, int) or step_size <= 0:
            raise ValueError(f"StepLR: step_size must be a positive integer, got {step_size!r}")
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return [group["lr"] for group in self.optimizer.param_groups]
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _closed_form(self):
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiply the rate by ``gamma`` at each milestone epoch:
    lr = base_lr * gamma^(number of milestones <= epoch).

    A milestone listed k times multiplies by gamma^k, as in PyTorch.
    """

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        milestones = list(milestones)
        if not all(isinstance(m, int) and not isinstance(m, bool) for m in milestones):
            raise ValueError(f"MultiStepLR: milestones must be integers (epochs), got {milestones!r}")
        self.milestones, self.gamma = Counter(milestones), gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch not in self.milestones:
            return [group["lr"] for group in self.optimizer.param_groups]
        return [group["lr"] * self.gamma ** self.milestones[self.last_epoch] for group in self.optimizer.param_groups]

    def _closed_form(self):
        passed = sum(count for milestone, count in self.milestones.items() if milestone <= self.last_epoch)
        return [base * self.gamma ** passed for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply the rate by ``gamma`` every epoch: lr = base_lr * gamma^epoch."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0:
            return [group["lr"] for group in self.optimizer.param_groups]
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _closed_form(self):
        return [base * self.gamma ** self.last_epoch for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Half a cosine from base_lr down to ``eta_min`` over ``T_max`` epochs (SGDR without restarts):

        lr_t = eta_min + (base_lr - eta_min) * (1 + cos(pi * t / T_max)) / 2

    As in PyTorch the rate is updated from the current one, by the ratio of
    consecutive values of this curve,

        lr_t = eta_min + (lr_{t-1} - eta_min) * (1 + cos(pi t / T_max)) / (1 + cos(pi (t - 1) / T_max)),

    which equals the closed form while nothing else changes the rate; at the
    bottom (t = T_max + 1, where the ratio's denominator vanishes) it adds the
    curve's increment instead.  Past T_max the rate climbs back up the cosine.
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        if not T_max > 0:
            raise ValueError(f"CosineAnnealingLR: T_max must be a positive number of epochs, got {T_max!r}")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        t, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        groups = self.optimizer.param_groups
        if self._is_initial:
            return [group["lr"] for group in groups]
        if (t - 1 - T) % (2 * T) == 0:
            return [group["lr"] + (base - eta_min) * (1 - math.cos(math.pi / T)) / 2
                    for base, group in zip(self.base_lrs, groups)]
        return [(1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T)) * (group["lr"] - eta_min)
                + eta_min for group in groups]

    def _closed_form(self):
        cosine = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        return [self.eta_min + (base - self.eta_min) * cosine for base in self.base_lrs]


class CosineAnnealingWarmRestarts(LRScheduler):
    """SGDR (Loshchilov & Hutter, 2017): half a cosine from base_lr down to ``eta_min``
    over T_i epochs, then a restart; the first period is ``T_0`` epochs and each next
    one ``T_mult`` times longer:

        lr = eta_min + (base_lr - eta_min) (1 + cos(pi T_cur / T_i)) / 2

    with T_cur the epochs since the last restart.  ``step(epoch)`` may be given a
    fractional epoch (``scheduler.step(epoch + i / iters)`` once per batch, as in
    PyTorch's documentation); ``step()`` moves on one epoch.
    """

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):
        if not isinstance(T_0, int) or isinstance(T_0, bool) or T_0 <= 0:
            raise ValueError(f"Expected positive integer T_0, but got {T_0}")
        if not isinstance(T_mult, int) or isinstance(T_mult, bool) or T_mult < 1:
            raise ValueError(f"Expected integer T_mult >= 1, but got {T_mult}")
        self.T_0, self.T_mult, self.eta_min = T_0, T_mult, eta_min
        self.T_i, self.T_cur = T_0, last_epoch
        super().__init__(optimizer, last_epoch)

    def step(self, epoch=None):
        """The next epoch, or ``epoch`` itself (a float allowed); a step that raises changes nothing."""
        if epoch is None:
            if self.last_epoch < 0:
                T_cur, T_i = 0, self.T_0
            else:
                T_cur, T_i = self.T_cur + 1, self.T_i
                if T_cur >= T_i:
                    T_cur, T_i = T_cur - T_i, T_i * self.T_mult
            last_epoch = self.last_epoch + 1
        else:
            if epoch < 0:
                raise ValueError(f"Expected non-negative epoch, but got {epoch}")
            T_cur, T_i = epoch, self.T_0
            while T_cur >= T_i:               # the restarts before epoch (each period T_mult times the last)
                T_cur, T_i = T_cur - T_i, T_i * self.T_mult
                if self.T_mult == 1:
                    T_cur %= T_i
            last_epoch = math.floor(epoch)
        self.T_cur, self.T_i, self.last_epoch = T_cur, T_i, last_epoch
        self._set_lrs(self.get_lr())

    def get_lr(self):
        cosine = (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
        return [self.eta_min + (base - self.eta_min) * cosine for base in self.base_lrs]


class MultiplicativeLR(LRScheduler):
    """Multiply the rate by ``lr_lambda(epoch)`` every epoch (one function, or one per group)."""

    _unsaved = ("optimizer", "lr_lambdas")

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        self.lr_lambdas = _per_group("lr_lambda", optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        groups = self.optimizer.param_groups
        if self.last_epoch == 0:
            return [group["lr"] for group in groups]
        return [group["lr"] * fn(self.last_epoch) for group, fn in zip(groups, self.lr_lambdas)]


class ConstantLR(LRScheduler):
    """The rate times ``factor`` for the first ``total_iters`` epochs, then the rate itself:
    a warm-up at a constant low rate."""

    def __init__(self, optimizer, factor=1.0 / 3, total_iters=5, last_epoch=-1):
        if not 0 <= factor <= 1:
            raise ValueError(f"Constant multiplicative factor expected to be between 0 and 1, got {factor}")
        self.factor, self.total_iters = factor, total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        groups = self.optimizer.param_groups
        if self.last_epoch == 0:
            return [group["lr"] * self.factor for group in groups]
        if self.last_epoch != self.total_iters:
            return [group["lr"] for group in groups]
        return [group["lr"] / self.factor for group in groups]

    def _closed_form(self):
        factor = 1.0 if self.last_epoch >= self.total_iters else self.factor
        return [base * factor for base in self.base_lrs]


class LinearLR(LRScheduler):
    """The rate times a factor that goes linearly from ``start_factor`` to ``end_factor`` over
    ``total_iters`` epochs, then stays: lr_t = base_lr (s + (e - s) min(t, T) / T).

    As in PyTorch each step multiplies the current rate by the ratio of consecutive
    factors, 1 + (e - s) / (T s + (t - 1)(e - s)), which equals the closed form while
    nothing else changes the rate.
    """

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5, last_epoch=-1):
        if not 0 < start_factor <= 1:
            raise ValueError(f"Starting multiplicative factor expected to be greater than 0 and less or equal "
                             f"to 1, got {start_factor}")
        if not 0 <= end_factor <= 1:
            raise ValueError(f"Ending multiplicative factor expected to be between 0 and 1, got {end_factor}")
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        groups, t = self.optimizer.param_groups, self.last_epoch
        s, e, total = self.start_factor, self.end_factor, self.total_iters
        if t == 0:
            return [group["lr"] * s for group in groups]
        if t > total:
            return [group["lr"] for group in groups]
        return [group["lr"] * (1 + (e - s) / (total * s + (t - 1) * (e - s))) for group in groups]

    def _closed_form(self):
        s, e, total = self.start_factor, self.end_factor, self.total_iters
        return [base * (s + (e - s) * min(total, self.last_epoch) / total) for base in self.base_lrs]


class PolynomialLR(LRScheduler):
    """lr_t = base_lr (1 - min(t, T) / T)^power: down to 0 at epoch ``total_iters``
    (updated, as in PyTorch, by the ratio of consecutive values)."""

    def __init__(self, optimizer, total_iters=5, power=1.0, last_epoch=-1):
        self.total_iters, self.power = total_iters, power
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        groups, t, total = self.optimizer.param_groups, self.last_epoch, self.total_iters
        if t == 0 or t > total:
            return [group["lr"] for group in groups]
        factor = ((1 - t / total) / (1 - (t - 1) / total)) ** self.power
        return [group["lr"] * factor for group in groups]

    def _closed_form(self):
        factor = (1 - min(self.total_iters, self.last_epoch) / self.total_iters) ** self.power
        return [base * factor for base in self.base_lrs]


class SequentialLR(LRScheduler):
    """One schedule after another: ``schedulers[i]`` runs from ``milestones[i - 1]``
    (restarting at its epoch 0 there, from the base rates) until ``milestones[i]``;
    e.g. ``SequentialLR(opt, [LinearLR(opt, 0.1, total_iters=5), CosineAnnealingLR(opt, 95)],
    milestones=[5])`` for a linear warm-up, then a cosine.  As PyTorch's, it undoes
    the step the schedulers made when they were built and starts the first one again.
    ``state_dict()`` holds each scheduler's state under ``_schedulers``."""

    _unsaved = ("optimizer", "_schedulers")

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        _check_optimizer(optimizer)
        schedulers, milestones = list(schedulers), list(milestones)
        if not schedulers:
            raise ValueError("SequentialLR expects at least one scheduler")
        for i, scheduler in enumerate(schedulers):
            if isinstance(scheduler, ReduceLROnPlateau) or not isinstance(scheduler, LRScheduler):
                raise ValueError(f"SequentialLR: scheduler at index {i} must be a learning-rate scheduler "
                                 f"stepped by epochs (not ReduceLROnPlateau), got {type(scheduler).__name__}")
            if scheduler.optimizer is not optimizer:
                raise ValueError(f"SequentialLR expects all schedulers to belong to the same optimizer, but got "
                                 f"scheduler at index {i} with a different optimizer")
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"Sequential Schedulers expects number of schedulers provided to be one more than "
                             f"the number of milestone points, but got number of schedulers {len(schedulers)} "
                             f"and the number of milestones to be equal to {len(milestones)}")
        self.optimizer, self._schedulers, self._milestones = optimizer, schedulers, milestones
        self.last_epoch = last_epoch + 1
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        for scheduler in schedulers:
            scheduler.last_epoch -= 1
        first = schedulers[0]
        first._is_initial = True
        first.step()
        first._is_initial = False
        self._last_lr = first.get_last_lr()

    def step(self):
        self.last_epoch += 1
        index = bisect.bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[index]
        if index > 0 and self._milestones[index - 1] == self.last_epoch:
            scheduler._restart()
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def state_dict(self):
        state = super().state_dict()
        state["_schedulers"] = [scheduler.state_dict() for scheduler in self._schedulers]
        return state

    def load_state_dict(self, state_dict):
        saved = state_dict.get("_schedulers")
        if not isinstance(saved, list) or len(saved) != len(self._schedulers):
            raise ValueError(f"SequentialLR.load_state_dict: '_schedulers' must hold {len(self._schedulers)} "
                             f"states, got {saved!r}")
        for scheduler, state in zip(self._schedulers, saved):      # each checks its own before this changes
            scheduler.load_state_dict(state)
        super().load_state_dict({key: value for key, value in state_dict.items() if key != "_schedulers"})


class LambdaLR(LRScheduler):
    """lr = base_lr * lr_lambda(epoch); ``lr_lambda`` is one function or one per parameter group.

    ``state_dict()`` does not hold the functions: an entry is None for a plain
    function or lambda, and the attributes (``__dict__``) of a callable object,
    as in PyTorch; ``load_state_dict`` restores those attributes.
    """

    _unsaved = ("optimizer", "lr_lambdas")

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        groups = len(optimizer.param_groups)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != groups:
                raise ValueError(f"LambdaLR: expected {groups} lr_lambdas (one per parameter group), "
                                 f"got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * groups
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [base * fn(self.last_epoch) for base, fn in zip(self.base_lrs, self.lr_lambdas)]

    def state_dict(self):
        state = super().state_dict()
        state["lr_lambdas"] = [None if isinstance(fn, types.FunctionType) or not hasattr(fn, "__dict__")
                               else copy.deepcopy(fn.__dict__) for fn in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict):
        saved = state_dict.get("lr_lambdas")
        if not isinstance(saved, list) or len(saved) != len(self.lr_lambdas):
            raise ValueError(f"LambdaLR.load_state_dict: 'lr_lambdas' is {saved!r}; expected a list of "
                             f"{len(self.lr_lambdas)} entries (None or a callable object's attributes)")
        super().load_state_dict({key: value for key, value in state_dict.items() if key != "lr_lambdas"})
        for fn, attributes in zip(self.lr_lambdas, saved):
            if attributes is not None:
                fn.__dict__.update(copy.deepcopy(attributes))


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin, 2019), stepped once per batch.

    The rate rises from initial_lr = max_lr / div_factor to max_lr over the
    first pct_start of ``total_steps``, then falls to
    min_lr = initial_lr / final_div_factor; with ``three_phase`` it comes back
    down to initial_lr symmetrically and a third phase falls to min_lr.  Each
    phase goes from a start value to an end value as its fraction x of steps
    goes from 0 to 1, by

        cos:     end + (start - end) * (1 + cos(pi x)) / 2
        linear:  start + (end - start) * x

    With ``cycle_momentum`` the momentum (SGD, RMSprop) or Adam's beta1 moves
    the opposite way, between max_momentum and base_momentum.  Phase ends are
    PyTorch's (step pct_start * total_steps - 1, ...), and ``step()`` raises
    ValueError once more than ``total_steps`` steps have been taken.
    """

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None, pct_start=0.3,
                 anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85, max_momentum=0.95,
                 div_factor=25.0, final_div_factor=1e4, three_phase=False, last_epoch=-1):
        _check_optimizer(optimizer)
        if total_steps is not None:
            if not isinstance(total_steps, int) or total_steps <= 0:
                raise ValueError(f"Expected positive integer total_steps, but got {total_steps}")
        elif epochs is not None and steps_per_epoch is not None:
            if not isinstance(epochs, int) or epochs <= 0:
                raise ValueError(f"Expected positive integer epochs, but got {epochs}")
            if not isinstance(steps_per_epoch, int) or steps_per_epoch <= 0:
                raise ValueError(f"Expected positive integer steps_per_epoch, but got {steps_per_epoch}")
            total_steps = epochs * steps_per_epoch
        else:
            raise ValueError("You must define either total_steps OR (epochs AND steps_per_epoch)")
        if not isinstance(pct_start, float) or not 0 <= pct_start <= 1:
            raise ValueError(f"Expected float between 0 and 1 pct_start, but got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
        if cycle_momentum and "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
            raise ValueError("optimizer must support momentum or beta1 with `cycle_momentum` option enabled")
        max_lrs = _per_group("max_lr", optimizer, max_lr)
        if cycle_momentum:
            max_momentums = _per_group("max_momentum", optimizer, max_momentum)
            base_momentums = _per_group("base_momentum", optimizer, base_momentum)

        self.total_steps, self.anneal_strategy, self.cycle_momentum = total_steps, anneal_strategy, cycle_momentum
        self.use_beta1 = "betas" in optimizer.defaults
        rise = dict(end_step=float(pct_start * total_steps) - 1, start_lr="initial_lr", end_lr="max_lr",
                    start_momentum="max_momentum", end_momentum="base_momentum")
        if three_phase:
            self._schedule_phases = [
                rise,
                dict(end_step=float(2 * pct_start * total_steps) - 2, start_lr="max_lr", end_lr="initial_lr",
                     start_momentum="base_momentum", end_momentum="max_momentum"),
                dict(end_step=total_steps - 1, start_lr="initial_lr", end_lr="min_lr",
                     start_momentum="max_momentum", end_momentum="max_momentum")]
        else:
            self._schedule_phases = [
                rise,
                dict(end_step=total_steps - 1, start_lr="max_lr", end_lr="min_lr",
                     start_momentum="base_momentum", end_momentum="max_momentum")]
        if last_epoch == -1:
            for i, (group, top) in enumerate(zip(optimizer.param_groups, max_lrs)):
                group["initial_lr"] = top / div_factor
                group["max_lr"] = top
                group["min_lr"] = group["initial_lr"] / final_div_factor
                if cycle_momentum:
                    self._set_momentum(group, max_momentums[i])
                    group["max_momentum"], group["base_momentum"] = max_momentums[i], base_momentums[i]
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start, end, fraction):
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * fraction) + 1)
        return (end - start) * fraction + start

    def _set_momentum(self, group, momentum):
        if self.use_beta1:
            group["betas"] = (momentum, *group["betas"][1:])
        else:
            group["momentum"] = momentum

    def get_lr(self):
        """The rates for step ``last_epoch``; with ``cycle_momentum`` it also sets the momenta."""
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"Tried to step {step} times. The specified number of total steps is "
                             f"{self.total_steps}")
        lrs = []
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, phase in enumerate(self._schedule_phases):
                if step <= phase["end_step"] or i == len(self._schedule_phases) - 1:
                    fraction = (step - start_step) / (phase["end_step"] - start_step)
                    lrs.append(self._anneal(group[phase["start_lr"]], group[phase["end_lr"]], fraction))
                    if self.cycle_momentum:
                        self._set_momentum(group, self._anneal(group[phase["start_momentum"]],
                                                               group[phase["end_momentum"]], fraction))
                    break
                start_step = phase["end_step"]
        return lrs


class ReduceLROnPlateau(LRScheduler):
    """Multiply the rate by ``factor`` when a metric has stopped improving.

    ``step(metrics)`` once per epoch: a value is an improvement when it beats
    the best so far by the threshold (mode 'min', threshold_mode 'rel':
    metric < best * (1 - threshold); 'abs': metric < best - threshold; mode
    'max' mirrors these).  After more than ``patience`` epochs without one,
    each group's rate becomes max(lr * factor, min_lr) (unless that changes it
    by eps or less), and ``cooldown`` epochs pass before bad epochs count again.
    It shares ``get_last_lr`` and ``state_dict`` with the other schedules but
    records no ``initial_lr``.
    """

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel",
                 cooldown=0, min_lr=0, eps=1e-8):
        _check_optimizer(optimizer)
        if factor >= 1.0:
            raise ValueError(f"Factor should be < 1.0, got {factor}")
        _check_modes(mode, threshold_mode)
        self.optimizer = optimizer
        if isinstance(min_lr, (list, tuple)):
            self.min_lrs, self.default_min_lr = _per_group("min_lr", optimizer, min_lr), None
        else:
            self.min_lrs, self.default_min_lr = [min_lr] * len(optimizer.param_groups), min_lr
        self.mode, self.factor, self.patience, self.threshold = mode, factor, patience, threshold
        self.threshold_mode, self.cooldown, self.eps = threshold_mode, cooldown, eps
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs, self.cooldown_counter, self.last_epoch = 0, 0, 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    def _is_better(self, current):
        if self.mode == "min":
            bar = self.best * (1 - self.threshold) if self.threshold_mode == "rel" else self.best - self.threshold
            return current < bar
        bar = self.best * (1 + self.threshold) if self.threshold_mode == "rel" else self.best + self.threshold
        return current > bar

    def step(self, metrics):
        """Record this epoch's ``metrics`` (a number or a one-element Tensor) and reduce the rates if it is time."""
        current = float(metrics)
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(f"The number of param groups in the optimizer ({len(groups)}) differs from "
                                   f"when ReduceLROnPlateau was initialized ({len(self.min_lrs)}); set "
                                   "min_lrs to one value per group")
            self.min_lrs = [self.default_min_lr] * len(groups)
        self.last_epoch += 1
        if self._is_better(current):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for group, min_lr in zip(groups, self.min_lrs):
                new_lr = max(group["lr"] * self.factor, min_lr)
                if group["lr"] - new_lr > self.eps:
                    group["lr"] = new_lr
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = [group["lr"] for group in groups]

    def load_state_dict(self, state_dict):
        _check_modes(state_dict.get("mode"), state_dict.get("threshold_mode"))
        super().load_state_dict(state_dict)
