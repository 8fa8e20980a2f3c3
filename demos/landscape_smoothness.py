"""Loss-landscape smoothness along the gradient, with and without BN (Santurkar et al. 2018, Figure 4).

    python demos/landscape_smoothness.py             # 6x100 ReLU MLP on digits (MNIST if its files are found)
    python demos/landscape_smoothness.py --quick     # a short smoke run
    python demos/landscape_smoothness.py --lr 0.2 --layers 8

Santurkar, Tsipras, Ilyas & Madry, "How Does Batch Normalization Help
Optimization?" (NeurIPS 2018), section 3.1, argue that BN makes the loss
landscape smoother: the loss and its gradient change less when one moves
along the gradient.  The paper trains VGG on CIFAR-10; this demo trains a
deep ReLU MLP (``--layers`` hidden layers of ``--hidden`` units, default 6x100)
on digits/MNIST, once plain and once with BN before each ReLU, from the same
initial weights on the same mini-batches, by plain SGD with learning rate
``--lr``.

Every ``--probe-every`` steps, before the step, on that step's mini-batch B,
with x the parameters and g = grad L_B(x), the demo moves to
x' = x - eta * g for every step size eta in ``lr * --step-scales`` (0.5x to 4x
the learning rate) and records

(a) loss landscape: the range min..max of L_B(x') over the step sizes;
(b) gradient predictiveness: the range of ||g - grad L_B(x')||_2;
(c) effective beta-smoothness: the range of ||g - grad L_B(x')|| / ||x - x'||;
    its maximum over the step sizes is the effective beta-smoothness.

Losses at moved points are computed in training mode (batch statistics of the
same B), so they are the function SGD actually descends; the probe saves every
parameter and buffer first and writes them back afterwards, so the BN running
statistics and the parameters are bit-identical after probing, and the
training run is the same as one without probes.  Each panel shows the ranges
as shaded bands over training; BN's bands are narrower.  The JSON holds every
band and each network's average band width.
"""
import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):        # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tinygrad_bn.functional as F           # noqa: E402
from tinygrad_bn import data                 # noqa: E402
from tinygrad_bn.autograd import grad        # noqa: E402
from demos.common import (STYLE, Progress, add_dataset_flags, demo_parser, pyplot, require_at_least,  # noqa: E402
                          restored, save_figure, save_run)
from demos.lr_stress_test import ACTIVATIONS, twin_training   # noqa: E402

NAME = "landscape_smoothness"
NETWORKS = ("plain", "bn")
MEASURES = ("loss", "grad_change", "beta")


def parse_args(argv=None):
    p = demo_parser(__doc__.split("\n\n")[0], f"runs/{NAME}")
    add_dataset_flags(p)
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--batch-size", type=int, default=60)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--activation", choices=sorted(ACTIVATIONS), default="relu")
    p.add_argument("--hidden", type=int, default=100, help="units per hidden layer")
    p.add_argument("--layers", type=int, default=6, help="hidden layers")
    p.add_argument("--probe-every", type=int, default=25, help="training steps between probes")
    p.add_argument("--step-scales", type=float, nargs="+", default=[0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4],
                   help="step sizes of the probe, in units of --lr")
    args = p.parse_args(argv)
    if args.quick:
        args.steps, args.probe_every = min(args.steps, 120), min(args.probe_every, 20)
        args.hidden, args.step_scales = min(args.hidden, 64), [0.5, 2, 4]
    require_at_least(p, args, ("steps", "batch_size", "hidden", "layers", "probe_every"), 1)
    if args.lr <= 0 or min(args.step_scales) <= 0:
        p.error("--lr and every --step-scales value must be positive")
    return args


# ---------------------------------------------------------------------- the probe
def loss_and_gradient(net, params, images, labels):
    """L_B(x) in training mode and its gradient (a list of tensors), without touching ``.grad``."""
    loss = F.cross_entropy(net(images), labels)
    return loss.item(), list(grad(loss, params))


def distance(arrays_a, arrays_b):
    """||a - b||_2 over all the tensors together."""
    return float(np.sqrt(sum(float(((a - b) ** 2).sum()) for a, b in zip(arrays_a, arrays_b))))


def probe(net, images, labels, step_sizes):
    """Move along -grad on one mini-batch; returns {loss, grad_change, beta}: one value per step size.

    Values that are not finite (a step that blows the network up) are returned as inf.
    The network's parameters and buffers (BN running statistics, counters) are left bit-identical.
    """
    params = list(net.parameters())
    values = {m: [] for m in MEASURES}
    with restored(net), np.errstate(all="ignore"):
        origin = [p.detach().clone() for p in params]
        _, gradient = loss_and_gradient(net, params, images, labels)
        gradient_norm = distance(gradient, [g * 0 for g in gradient])
        for eta in step_sizes:
            for p, x, g in zip(params, origin, gradient):
                p.data[...] = x - eta * g
            loss, moved_gradient = loss_and_gradient(net, params, images, labels)
            change = distance(gradient, moved_gradient)
            finite = np.isfinite(loss) and np.isfinite(change)
            values["loss"].append(float(loss) if finite else float("inf"))
            values["grad_change"].append(change if finite else float("inf"))
            values["beta"].append(change / (eta * gradient_norm) if finite and gradient_norm > 0 else float("inf"))
    return values


def band_summary(bands, probes=slice(None)):
    """Average band width (max - min) and average top over the ``probes`` with finite values (None if none)."""
    finite = [(lo, hi) for lo, hi in zip(bands["min"][probes], bands["max"][probes])
              if lo is not None and hi is not None]
    if not finite:
        return {"mean_width": None, "mean_max": None}
    lows, highs = np.array(finite).T
    return {"mean_width": float(np.mean(highs - lows)), "mean_max": float(np.mean(highs))}


# ---------------------------------------------------------------------- the run
def run(args):
    train, dataset, classes, nets, optimizers = twin_training(args, args.lr)
    step_sizes = [args.lr * s for s in args.step_scales]
    loader = data.DataLoader(train, args.batch_size, shuffle=True, drop_last=True, seed=args.seed,
                             device=args.device)

    empty = {"min": [], "max": []}
    records = {name: {"train_loss": [], "diverged_step": None, "non_finite_probes": 0,
                      **{m: {k: list(v) for k, v in empty.items()} for m in MEASURES}} for name in NETWORKS}
    probe_steps = []
    progress = Progress(args.steps, not args.no_progress)
    started, step = time.perf_counter(), 0
    while step < args.steps:
        for images, labels in loader:
            if step % args.probe_every == 0:
                probe_steps.append(step)
                for name, net in nets.items():
                    record = records[name]
                    values = probe(net, images, labels, step_sizes) if record["diverged_step"] is None else None
                    for m in MEASURES:
                        finite = [v for v in values[m] if np.isfinite(v)] if values else []
                        whole = values is not None and len(finite) == len(values[m])
                        record[m]["min"].append(min(finite) if whole else None)
                        record[m]["max"].append(max(finite) if whole else None)
                    record["non_finite_probes"] += values is not None and not whole
                progress.update(step, "  ".join(
                    f"{n} loss {(records[n]['train_loss'] or [None])[-1] or float('nan'):.3f}" for n in NETWORKS))
            step += 1
            for name, net in nets.items():
                record = records[name]
                if record["diverged_step"] is not None:
                    continue
                with np.errstate(all="ignore"):
                    loss = F.cross_entropy(net(images), labels)
                    value = loss.item()
                    if np.isfinite(value):
                        optimizers[name].zero_grad()
                        loss.backward()
                        optimizers[name].step()
                if not np.isfinite(value):
                    record["diverged_step"] = step
                record["train_loss"].append(float(value) if np.isfinite(value) else None)
            if step == args.steps:
                break
    progress.close()
    seconds = time.perf_counter() - started

    results = {"config": {**vars(args), "classes": classes}, "dataset": dataset,
               "probe_steps": probe_steps, "step_sizes": step_sizes, "seconds": round(seconds, 1)}
    for name in NETWORKS:
        record = records[name]
        half = len(probe_steps) // 2
        results[name] = {**record, "band": {m: band_summary(record[m]) for m in MEASURES},
                         "band_first_half": {m: band_summary(record[m], slice(None, half)) for m in MEASURES},
                         "band_second_half": {m: band_summary(record[m], slice(half, None)) for m in MEASURES},
                         "final_train_loss": record["train_loss"][-1]}
    widths = {n: {m: results[n]["band"][m]["mean_width"] for m in MEASURES} for n in NETWORKS}
    results["width_ratio_plain_over_bn"] = {
        m: widths["plain"][m] / widths["bn"][m] if widths["plain"][m] is not None and widths["bn"][m] else None
        for m in MEASURES}
    return results


# ---------------------------------------------------------------------- numbers that hold on any machine
def headline(record):
    """The numbers docs/demos.md reports, as median and range over seeds."""
    numbers = {}
    for m in MEASURES:
        numbers[f"{m} band width, plain / bn"] = record["width_ratio_plain_over_bn"][m]
    for name in NETWORKS:
        numbers[f"{name} effective beta-smoothness (mean band top)"] = record[name]["band"]["beta"]["mean_max"]
        numbers[f"{name} final training loss"] = record[name]["final_train_loss"]
    return numbers


def quick_claims(record):
    """What ``python -m demos.all --check`` asserts of the quick run (120 steps on digits)."""
    plain, bn = record["plain"]["band"], record["bn"]["band"]
    return {
        "landscape (quick): the loss band without BN is over twice as wide as with BN":
            plain["loss"]["mean_width"] > 2 * bn["loss"]["mean_width"],
        "landscape (quick): the gradient-change band without BN is over twice as wide as with BN":
            plain["grad_change"]["mean_width"] > 2 * bn["grad_change"]["mean_width"],
    }


# ---------------------------------------------------------------------- output
def plot(results, path):
    """Three panels as Figure 4 of the paper: loss range, gradient change, beta-smoothness, as bands."""
    plt = pyplot()
    steps = np.asarray(results["probe_steps"])
    titles = {"loss": "(a) loss landscape: L(x - eta g)",
              "grad_change": "(b) gradient predictiveness: ||g - g'||",
              "beta": "(c) effective beta-smoothness: ||g - g'|| / ||x - x'||"}
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.8))
    for ax, m in zip(axes, MEASURES):
        for name in NETWORKS:
            label, color = STYLE[name]["label"], STYLE[name]["color"]
            band = results[name][m]
            low = np.array([np.nan if v is None else v for v in band["min"]])
            high = np.array([np.nan if v is None else v for v in band["max"]])
            ax.fill_between(steps, low, high, color=color, alpha=0.35, lw=0,
                            label=f"{label} (mean width {results[name]['band'][m]['mean_width'] or float('nan'):.3g})")
            ax.plot(steps, high, color=color, ls=STYLE[name]["linestyle"], lw=0.8)
            missing = steps[np.isnan(high)]
            if len(missing):
                ax.plot(missing, np.full(len(missing), np.nanmax(high) if np.isfinite(high).any() else 1.0),
                        "x", color=color, label=f"{label}: NaN/Inf along the gradient")
        ax.set(title=titles[m], xlabel="training steps", yscale="log")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)
    config = results["config"]
    scales = config["step_scales"]
    fig.suptitle(f"Santurkar et al. (2018) Figure 4 on {results['dataset']['name']}: {config['layers']}x"
                 f"{config['hidden']} {config['activation']} MLP, SGD lr {config['lr']:g}; probe steps eta = lr x "
                 f"[{min(scales):g} .. {max(scales):g}] along the gradient, same mini-batch", fontsize=10)
    save_figure(fig, path)


def main(argv=None):
    args = parse_args(argv)
    results = run(args)
    results = save_run(args.out, NAME, results.pop("config"), results, plot)
    for m in MEASURES:
        widths = {n: results[n]["band"][m]["mean_width"] for n in NETWORKS}
        print(f"{m:12s} mean band width: plain {widths['plain']}, bn {widths['bn']}")
    print(f"final training loss: plain {results['plain']['final_train_loss']}, bn {results['bn']['final_train_loss']}"
          f"  ({results['seconds']} s)")
    return results


if __name__ == "__main__":
    main()
