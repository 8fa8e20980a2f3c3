"""Gradients of a deep network at initialisation, with and without BN (Bjorck et al., 2018).

    python demos/gradient_histograms.py               # ResNet-110, a batch of 128 images (CIFAR-10 when found)
    python demos/gradient_histograms.py --quick       # ResNet-14, a batch of 64
    python demos/gradient_histograms.py --arch fc     # the fully connected forms: 110 layers of width 256, 256 digits

Bjorck, Gomes, Selman & Weinberger (2018), "Understanding Batch Normalization",
show "histograms over the gradients at initialization for (midpoint) layer 55"
of a 110-layer ResNet on CIFAR-10, with BN and without: "for the unnormalized
network, the gradients are distributed with heavy tails, whereas for the
normalized networks the gradients are concentrated around the mean"; they are
also orders of magnitude larger.

``--arch resnet110`` (the default) is their setting: He et al.'s CIFAR
ResNet-110 (``models.resnet110``: option A shortcuts, He-normal weights), once
with BatchNorm2d after every convolution, in training mode (batch
statistics), and once without (``norm=None``: the convolutions get zero
biases instead), the two starting from the same weights.  One batch of
``--batch`` 128 training images (the mini-batch size of He et al.'s CIFAR
training, section 4.2), cross-entropy loss, one backward pass; the quantity is
the gradient of the weights of the midpoint layer, layer 55 of the 110
(``midpoint_layer()``: ``layer2.8.conv2``, 32 x 32 x 3 x 3 weights).  The
images are CIFAR-10's when they are found under the data root.  Otherwise, and
said so in the output, the offline substitute is real images the machine has:
MNIST's (1 x 28 x 28, through ``in_channels=1``; the test set's 8,000/2,000
split when only the test files are there), else scikit-learn's 8x8 digits.
Each channel is standardised with the training split's mean and std, as
CIFAR-10 usually is.

``--arch fc`` asks the same question of fully connected ReLU networks on one
batch of ``--batch`` 256 digits (standardised per pixel), each once without
and once with BatchNorm1d (training mode) before every hidden ReLU:

* ``feedforward``: ``--depth`` Linear layers (input 64 -> ``--width`` -> ...
  -> ``--width`` -> 10 classes), ReLU after every hidden one;
* ``residual``: the fully connected analogue of Bjorck's ResNet: Linear ->
  ReLU, then (depth - 2) / 2 blocks h <- relu(h + [BN] W2 relu([BN] W1 h)),
  then the 10-way output layer: the same number of weight layers.

Their weights are He-normal (``nn.init.kaiming_normal_``), their biases zero.

The gradient of the middle layer is summarised by its median magnitude and
99th percentile of |g|, its std, the ratios of the 99th percentile to the
median and to the mean magnitude (scale-free measures of spread), the share
of exact zeros (dead ReLU units) and its kurtosis E[(g - mean)^4] / std^4 (3
for a Gaussian; computed with NumPy), also over the nonzero entries alone;
the JSON holds the ratios without / with BN of the median and the 99th
percentile.  What to look for: without BN the gradient is heavy-tailed
(kurtosis far above 3) in every network; in the ResNet-110 and the residual
FC network it is also orders of magnitude larger, as in the paper.  In the
plain feedforward network it is the other way round for the size: with BN the
gradients grow geometrically towards the input at initialisation (Yang et
al., 2019, "A mean field theory of batch normalization"), so the BN network's
middle-layer gradients are the larger ones; the per-layer gradient norms
(right-hand panels) show both effects.
"""
import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):        # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tinygrad_bn as tg                      # noqa: E402
import tinygrad_bn.functional as F           # noqa: E402
from tinygrad_bn import data, nn            # noqa: E402
from demos.common import (IMAGE_AUTO, IMAGE_DATASETS, STYLE, Progress, add_dataset_flags, demo_parser,  # noqa: E402
                          load_image_dataset, pyplot, require_at_least, save_figure, save_run, seeded_subset,
                          twin_resnets)

# --arch -> the networks it compares, each once without and once with BN, and their defaults
FAMILIES = {"resnet110": ("resnet",), "fc": ("feedforward", "residual")}
DEFAULTS = {"resnet110": {"depth": 110, "width": 16, "batch": 128},
            "fc": {"depth": 110, "width": 256, "batch": 256}}
QUICK = {"resnet110": {"depth": 14, "width": 16, "batch": 64},
         "fc": {"depth": 30, "width": 64, "batch": 64}}
NETWORKS = ("plain", "bn")
CLASSES = 10                     # every data set here: CIFAR-10, MNIST, the digits
LABELS = {name: STYLE[name]["label"] for name in NETWORKS}
BINS = 101
STANDARDISED_RANGE = 15          # the overlay of standardised gradients spans +-15 std


def parse_args(argv=None):
    p = demo_parser(__doc__.split("\n\n")[0], "runs/gradient_histograms")
    p.add_argument("--arch", choices=sorted(FAMILIES), default="resnet110",
                   help="resnet110: Bjorck et al.'s CIFAR ResNet; fc: its fully connected forms on digits")
    p.add_argument("--depth", type=int, default=None,
                   help="weighted layers, the output layer included (ResNet: 6n + 2); default 110")
    p.add_argument("--width", type=int, default=None,
                   help="ResNet: channels of the first stage (default 16); fc: units per hidden layer (256)")
    p.add_argument("--batch", type=int, default=None, help="images in the batch (default 128; fc 256)")
    add_dataset_flags(p, default=None, choices=IMAGE_DATASETS,
                      auto=f"resnet110 only, default auto ({IMAGE_AUTO}); fc runs on the digits")
    args = p.parse_args(argv)
    if args.arch == "fc" and args.dataset not in (None, "digits"):
        p.error("the fully connected networks run on the digits: --dataset is for --arch resnet110")
    args.dataset = args.dataset or ("auto" if args.arch == "resnet110" else "digits")
    for name, default in DEFAULTS[args.arch].items():
        if getattr(args, name) is None:
            setattr(args, name, default)
    if args.quick:
        for name, limit in QUICK[args.arch].items():
            setattr(args, name, min(getattr(args, name), limit))
    if args.arch == "fc" and args.depth < 4:
        p.error(f"--depth must be at least 4 (input, two hidden, output layers), got {args.depth}")
    if args.arch == "resnet110" and (args.depth < 8 or (args.depth - 2) % 6):
        p.error(f"--depth of a CIFAR ResNet is 6n + 2 (8, 14, 20, ..., 110), got {args.depth}")
    require_at_least(p, args, ("width", "batch"), 2)
    return args


# ---------------------------------------------------------------------- networks
class ResidualBlock(nn.Module):
    """h -> relu(h + [BN] W2 relu([BN] W1 h)), the fully connected form of a ResNet basic block."""

    def __init__(self, width, batch_norm, device):
        super().__init__()
        self.dense1 = nn.Linear(width, width, bias=not batch_norm, device=device)
        self.dense2 = nn.Linear(width, width, bias=not batch_norm, device=device)
        self.norm1 = nn.BatchNorm1d(width, device=device) if batch_norm else nn.Identity()
        self.norm2 = nn.BatchNorm1d(width, device=device) if batch_norm else nn.Identity()

    def forward(self, h):
        return (h + self.norm2(self.dense2(self.norm1(self.dense1(h)).relu()))).relu()


def hidden_layer(fan_in, fan_out, batch_norm, device):
    """Linear -> ReLU, or Linear (no bias: BN's beta replaces it) -> BN -> ReLU."""
    if batch_norm:
        return [nn.Linear(fan_in, fan_out, bias=False, device=device), nn.BatchNorm1d(fan_out, device=device),
                nn.ReLU()]
    return [nn.Linear(fan_in, fan_out, device=device), nn.ReLU()]


def build_network(architecture, inputs, width, classes, depth, batch_norm, device):
    """The network of ``architecture`` with ``depth`` Linear layers, [BN] before every hidden ReLU."""
    layers = hidden_layer(inputs, width, batch_norm, device)
    if architecture == "feedforward":
        for _ in range(depth - 2):
            layers += hidden_layer(width, width, batch_norm, device)
    else:
        layers += [ResidualBlock(width, batch_norm, device) for _ in range((depth - 2) // 2)]
    layers.append(nn.Linear(width, classes, device=device))
    return nn.Sequential(*layers)


def dense_layers(net):
    """The network's Linear layers, input to output."""
    return [module for module in net.modules() if isinstance(module, nn.Linear)]


def initialise_twins(plain, bn):
    """He-normal weights and zero biases, the same weights in both networks."""
    for a, b in zip(dense_layers(plain), dense_layers(bn)):
        nn.init.kaiming_normal_(a.weight, nonlinearity="relu")
        b.weight.data[...] = a.weight.data
        for dense in (a, b):
            if dense.bias is not None:
                nn.init.zeros_(dense.bias)



# ---------------------------------------------------------------------- statistics
def finite_or_none(value):
    """JSON has no NaN or infinity: those become None."""
    return float(value) if np.isfinite(value) else None


def kurtosis(values):
    """Pearson's kurtosis E[(x - mean)^4] / std^4 (3 for a Gaussian), in float64, scaled first against overflow."""
    x = np.asarray(values, dtype=np.float64)
    centred = x - x.mean()
    std = centred.std()
    return float(np.mean((centred / std) ** 4)) if std > 0 else float("nan")


def gradient_statistics(gradient):
    """Spread, tails and histograms of one gradient array (only its finite entries)."""
    g = np.asarray(gradient, dtype=np.float64).ravel()
    finite = g[np.isfinite(g)]
    record = {"size": int(g.size), "nonfinite": int(g.size - finite.size)}
    if finite.size == 0:
        return record
    magnitude = np.abs(finite)
    median, p99, mean_abs, std = (np.median(magnitude), np.percentile(magnitude, 99), magnitude.mean(), finite.std())
    record.update({
        "mean": float(finite.mean()), "std": float(std), "mean_abs": float(mean_abs),
        "median_abs": float(median), "p99_abs": float(p99), "max_abs": float(magnitude.max()),
        "p99_over_median_abs": finite_or_none(p99 / median) if median > 0 else None,
        "p99_over_mean_abs": finite_or_none(p99 / mean_abs) if mean_abs > 0 else None,
        "zero_fraction": float(np.mean(finite == 0)),
        "kurtosis": finite_or_none(kurtosis(finite)),
        "kurtosis_nonzero": finite_or_none(kurtosis(finite[finite != 0])) if np.count_nonzero(finite) > 1 else None,
    })
    limit = magnitude.max() if magnitude.max() > 0 else 1.0
    counts, edges = np.histogram(finite, BINS, (-limit, limit))
    record["histogram"] = {"counts": counts.tolist(), "edges": edges.tolist()}
    nonzero = magnitude[magnitude > 0]
    if nonzero.size:
        counts, edges = np.histogram(nonzero, np.geomspace(nonzero.min(), nonzero.max() * (1 + 1e-9), BINS + 1))
        record["magnitude_histogram"] = {"counts": counts.tolist(), "edges": edges.tolist()}
    if std > 0:
        standardised = np.clip((finite - finite.mean()) / std, -STANDARDISED_RANGE, STANDARDISED_RANGE)
        counts, edges = np.histogram(standardised, BINS, (-STANDARDISED_RANGE, STANDARDISED_RANGE))
        record["standardised_histogram"] = {"counts": counts.tolist(), "edges": edges.tolist()}
    return record


def digits_batch(size, seed, device):
    """``size`` training digits (a seeded choice), standardised per pixel with the training set's statistics,
    as rows, with their labels."""
    train = data.Digits(train=True)
    scaler = data.Standardize().fit(train.images)
    batch = seeded_subset(train, size, seed)
    return (tg.tensor(scaler.transform(batch.images), device=device), tg.tensor(batch.labels, device=device),
            {"name": "digits", "description": "scikit-learn's handwritten digits (8x8), standardised per pixel "
                                              "with the training set's statistics", "batch": size,
             "input_features": int(batch.images.shape[1])})


def image_batch(args):
    """``--batch`` training images of ``--dataset`` (a seeded choice) as (N, C, H, W), with their labels."""
    train, _, dataset = load_image_dataset(args.dataset, args.data_root, args.seed)
    batch = seeded_subset(train, args.batch, args.seed)
    return (tg.tensor(batch.images, device=args.device), tg.tensor(batch.labels, device=args.device),
            {**dataset, "batch": args.batch})


def twins(architecture, args, images, classes):
    """The two networks of ``architecture``, their weighted layers input to output, and the 0-based
    index of the middle one (for ResNet-110 layer 55, ``midpoint_layer()``)."""
    if architecture == "resnet":
        nets = {name: net.to(args.device)
                for name, net in twin_resnets(args.depth, args.width, images.shape[1], classes).items()}
        layers = {name: [module for _, module in net.weighted_layers()] for name, net in nets.items()}
        return nets, layers, layers["plain"].index(nets["plain"].midpoint_layer()[1])
    nets = {name: build_network(architecture, images.shape[1], args.width, classes, args.depth, name == "bn",
                                args.device) for name in NETWORKS}
    initialise_twins(nets["plain"], nets["bn"])
    layers = {name: dense_layers(net) for name, net in nets.items()}
    return nets, layers, (len(layers["plain"]) - 1) // 2          # 0-based: layer 55 of 110


def run(args):
    tg.manual_seed(args.seed)
    images, labels, dataset = image_batch(args) if args.arch == "resnet110" else \
        digits_batch(args.batch, args.seed, args.device)
    results = {"dataset": dataset}
    architectures = FAMILIES[args.arch]
    progress = Progress(len(architectures) * len(NETWORKS), not args.no_progress)
    started = time.perf_counter()
    for a, architecture in enumerate(architectures):
        nets, layers, middle = twins(architecture, args, images, CLASSES)
        results[architecture] = {"weight_layers": len(layers["plain"]), "middle_layer": middle + 1}
        if architecture == "resnet":
            results[architecture]["middle_layer_name"] = nets["plain"].midpoint_layer()[0]
        for n, name in enumerate(NETWORKS):
            loss = F.cross_entropy(nets[name](images), labels)
            loss.backward()
            grads = [layer.weight.grad.cpu().numpy() for layer in layers[name]]
            results[architecture][name] = {
                "loss": finite_or_none(loss.item()),
                "middle_layer_gradient": gradient_statistics(grads[middle]),
                "gradient_norm_per_layer": [finite_or_none(np.linalg.norm(g.astype(np.float64))) for g in grads],
            }
            progress.update(a * len(NETWORKS) + n + 1, f"{architecture} {name}")
    progress.close()
    results["claims"] = claims(results, architectures)
    results["seconds"] = round(time.perf_counter() - started, 1)
    return results


def ratio(numerator, denominator):
    """numerator / denominator, or None where it is not a finite number."""
    return finite_or_none(numerator / denominator) if numerator is not None and denominator else None


def claims(results, architectures):
    """Without BN: heavier tails (kurtosis), a wider spread (std) and larger magnitudes than with BN."""
    summary = {}
    for architecture in architectures:
        plain = results[architecture]["plain"]["middle_layer_gradient"]
        bn = results[architecture]["bn"]["middle_layer_gradient"]
        if "std" not in plain or "std" not in bn:
            continue
        summary[architecture] = {
            "kurtosis_plain": plain["kurtosis"], "kurtosis_bn": bn["kurtosis"],
            "std_ratio_plain_over_bn": ratio(plain["std"], bn["std"]),
            "median_abs_ratio_plain_over_bn": ratio(plain["median_abs"], bn["median_abs"]),
            "p99_abs_ratio_plain_over_bn": ratio(plain["p99_abs"], bn["p99_abs"]),
            "p99_over_mean_abs_plain": plain["p99_over_mean_abs"], "p99_over_mean_abs_bn": bn["p99_over_mean_abs"],
            "plain_heavier_tailed": (plain["kurtosis"] or 0) > (bn["kurtosis"] or float("inf")),
            "plain_larger_std": plain["std"] > bn["std"],
        }
    return summary


# ---------------------------------------------------------------------- numbers that hold on any machine
def headline(record):
    """The numbers docs/demos.md reports, as median and range over seeds."""
    numbers = {}
    for architecture in FAMILIES[record["config"]["arch"]]:
        for name in NETWORKS:
            stats = record[architecture][name]["middle_layer_gradient"]
            for key in ("median_abs", "p99_abs", "std", "kurtosis", "kurtosis_nonzero", "p99_over_median_abs",
                        "p99_over_mean_abs", "zero_fraction"):
                numbers[f"{architecture} {name} {key}"] = stats.get(key)
        for key in ("median_abs_ratio_plain_over_bn", "p99_abs_ratio_plain_over_bn"):
            numbers[f"{architecture} {key}"] = record["claims"].get(architecture, {}).get(key)
    return numbers


def quick_claims(record):
    """What ``python -m demos.all --check`` asserts of a quick run (ResNet-14 on 64 digits; fc: 30 layers of
    width 64, 64 digits)."""
    claims = {}
    if record["config"]["arch"] == "resnet110":
        stats = {name: record["resnet"][name]["middle_layer_gradient"] for name in NETWORKS}
        claims["gradient histograms (quick), ResNet-14: kurtosis over 1.5 times larger without BN"] = \
            (stats["plain"]["kurtosis"] or 0) > 1.5 * (stats["bn"]["kurtosis"] or float("inf"))
        claims["gradient histograms (quick), ResNet-14: p99 / median |g| over 1.5 times larger without BN"] = \
            (stats["plain"]["p99_over_median_abs"] or 0) > 1.5 * (stats["bn"]["p99_over_median_abs"] or float("inf"))
        return claims
    for architecture in FAMILIES["fc"]:
        plain = record[architecture]["plain"]["middle_layer_gradient"]
        bn = record[architecture]["bn"]["middle_layer_gradient"]
        claims[f"gradient histograms (quick), {architecture}: kurtosis over 10 without BN, under 6 with BN"] = \
            (plain["kurtosis"] or 0) > 10 and (bn["kurtosis"] or float("inf")) < 6
        claims[f"gradient histograms (quick), {architecture}: p99 / mean |g| over twice as large without BN"] = \
            plain["p99_over_mean_abs"] > 2 * bn["p99_over_mean_abs"]
    residual = record["residual"]
    claims["gradient histograms (quick), residual: gradient std over 100 times larger without BN"] = \
        residual["plain"]["middle_layer_gradient"]["std"] > 100 * residual["bn"]["middle_layer_gradient"]["std"]
    return claims


def kurtosis_text(stats):
    """'k (all entries), k' (nonzero only)': without BN many entries are exactly 0, which alone raises kurtosis."""
    nonzero = stats.get("kurtosis_nonzero")
    return f"{stats['kurtosis']:.3g} (all entries), " + (f"{nonzero:.3g} (nonzero only)"
                                                        if nonzero is not None else "no nonzero entries")


# ---------------------------------------------------------------------- output
def display_name(architecture, record):
    """'ResNet-110' for the ResNet, the architecture's name for the fully connected ones."""
    return f"ResNet-{record['weight_layers']}" if architecture == "resnet" else architecture


def layer_text(record):
    """'layer 55 (layer2.8.conv2)' for the ResNet, 'layer 55' for the others."""
    name = record.get("middle_layer_name")
    return f"layer {record['middle_layer']}" + (f" ({name})" if name else "")


def plot(results, path):
    """Per architecture: the two histograms side by side, both on one log axis of |g|, both standardised,
    and gradient norms per layer."""
    plt = pyplot()
    architectures = FAMILIES[results["config"]["arch"]]
    fig, axes = plt.subplots(len(architectures), 5, figsize=(23, 5.6 * len(architectures)), squeeze=False)
    for row, architecture in zip(axes, architectures):
        record = results[architecture]
        title, layer = display_name(architecture, record), record["middle_layer"]
        for ax, name in ((row[0], "plain"), (row[1], "bn")):
            stats = record[name]["middle_layer_gradient"]
            if "histogram" in stats:
                ax.stairs(stats["histogram"]["counts"], stats["histogram"]["edges"], fill=True,
                          color=STYLE[name]["color"])
                ax.set_title(f"{title}, {LABELS[name]}: {layer_text(record)} weight gradient\n"
                             f"median |g| {stats['median_abs']:.3g}, 99th percentile |g| {stats['p99_abs']:.3g}, "
                             f"zeros {100 * stats['zero_fraction']:.0f}%\nkurtosis {kurtosis_text(stats)}",
                             fontsize=9)
            ax.set(yscale="log", xlabel="gradient entry", ylabel="count (log)")
        for name in NETWORKS:
            stats = record[name]["middle_layer_gradient"]
            if "magnitude_histogram" in stats:
                row[2].stairs(stats["magnitude_histogram"]["counts"], stats["magnitude_histogram"]["edges"],
                              color=STYLE[name]["color"], linestyle=STYLE[name]["linestyle"],
                              label=f"{LABELS[name]}: 99th percentile |g| {stats['p99_abs']:.3g}")
        ratio_of_p99 = results["claims"].get(architecture, {}).get("p99_abs_ratio_plain_over_bn")
        row[2].set(title=f"{title}: |g| of both on one log axis\n99th percentile without / with BN = "
                         + (f"{ratio_of_p99:.3g}" if ratio_of_p99 else "n/a"), xscale="log",
                   xlabel="|gradient entry| (log; exact zeros left out)", ylabel="count")
        row[2].legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.17), frameon=False)
        for name in NETWORKS:
            stats = record[name]["middle_layer_gradient"]
            if "standardised_histogram" in stats:
                row[3].stairs(stats["standardised_histogram"]["counts"], stats["standardised_histogram"]["edges"],
                              color=STYLE[name]["color"], linestyle=STYLE[name]["linestyle"],
                              label=f"{LABELS[name]}: kurtosis {kurtosis_text(stats)}")
        size = record["plain"]["middle_layer_gradient"]["size"]
        edges = np.linspace(-STANDARDISED_RANGE, STANDARDISED_RANGE, BINS + 1)
        centres, width = (edges[:-1] + edges[1:]) / 2, edges[1] - edges[0]
        gaussian = size * width * np.exp(-centres ** 2 / 2) / np.sqrt(2 * np.pi)
        row[3].plot(centres, np.where(gaussian >= 0.5, gaussian, np.nan), "k--", linewidth=1,
                    label="Gaussian (kurtosis 3)")
        row[3].set(title=f"{title}: both, in units of their own std\n(exact zeros included)", yscale="log",
                   xlabel="(g - mean) / std", ylabel="count (log)")
        row[3].legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.17), frameon=False)
        for name in NETWORKS:
            norms = [np.nan if v is None else v for v in record[name]["gradient_norm_per_layer"]]
            row[4].plot(range(1, len(norms) + 1), norms, **STYLE[name])
        row[4].axvline(layer, color="grey", linestyle=":", label=f"layer {layer}")
        row[4].set(title=f"{title}: gradient norm of\neach layer's weights", yscale="log",
                   xlabel="layer (input -> output)", ylabel="||dL/dW||")
        row[4].grid(alpha=0.3)
        row[4].legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.17), ncol=3, frameon=False)
    config, dataset = results["config"], results["dataset"]
    if config["arch"] == "resnet110":
        heading = (f"Gradients at initialisation of He et al.'s CIFAR ResNet-{config['depth']} (option A, He init), "
                   f"one batch of {config['batch']} {dataset['name']} images ({'x'.join(map(str, dataset['image_shape']))}"
                   + ("" if dataset["name"] == "cifar10" else ", the offline stand-in for CIFAR-10") + "): "
                   "the histograms of "
                   "Bjorck et al. 2018")
    else:
        heading = (f"Gradients at initialisation, {config['depth']} layers of width {config['width']}, batch of "
                   f"{config['batch']} digits, He init (Bjorck et al. 2018's question, asked of fully connected "
                   "networks)")
    fig.suptitle(heading, fontsize=11)
    save_figure(fig, path, dpi=110, rect=(0, 0, 1, 0.95 if len(architectures) == 1 else 0.96))


def main(argv=None):
    args = parse_args(argv)
    record = save_run(args.out, "gradient_histograms", vars(args), run(args), plot)
    for architecture in FAMILIES[args.arch]:
        for name in NETWORKS:
            s = record[architecture][name]["middle_layer_gradient"]
            print(f"{display_name(architecture, record[architecture]):>11} {LABELS[name]:>10}: "
                  f"{layer_text(record[architecture])} gradient median |g| {s.get('median_abs', float('nan')):.3g}, "
                  f"p99 |g| {s.get('p99_abs', float('nan')):.3g}, kurtosis {s.get('kurtosis') or float('nan'):.3g}, "
                  f"p99/median|g| {s.get('p99_over_median_abs') or float('nan'):.3g}, "
                  f"zeros {100 * s.get('zero_fraction', float('nan')):.1f}%")
    print(f"({record['seconds']} s)")
    return record


if __name__ == "__main__":
    main()
