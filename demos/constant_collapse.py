"""Deep ReLU networks at initialisation collapse to a constant function; centring or BN prevents it.

    python demos/constant_collapse.py                 # width 2048, depth 50, 512 inputs
    python demos/constant_collapse.py --width 512     # for a smaller machine
    python demos/constant_collapse.py --quick         # width 256, depth 20, 128 inputs

The question: He initialisation keeps the *size* of the activations of a deep
ReLU network constant from layer to layer, so is the signal preserved?  It is
not: a ReLU's output has a positive mean, and that shared mean makes the
representations of any two inputs more alike at every layer.  Their cosine
similarity follows the arc-cosine map of Cho & Saul (2009),

    k(rho) = (sqrt(1 - rho^2) + (pi - arccos rho) rho) / pi,   k(0) = 1/pi,

whose only fixed point is rho = 1, so every input ends up mapped to (nearly)
the same vector: the network computes a constant.  Activations still vary, but
from channel to channel, not from input to input.

The experiment is David Page's ("How to train your ResNet 7: Batch norm",
myrtle.ai, 2019), who splits the variance of a deep ReLU network's activations
at He initialisation by the law of total variance into a part within channels
and a part between channels; the same decomposition is the subject of Luther &
Seung (2019), "Sample variance decay in randomly initialized ReLU networks".

The setup: ``--depth`` blocks of Linear(width, width, no bias) followed by a
nonlinearity, on ``--batch`` Gaussian inputs N(0, I) of dimension ``--width``,
under ``tg.no_grad()``.  Five networks:

* ``relu``: ReLU, He init (N(0, 2/width));
* ``linear``: no nonlinearity, N(0, 1/width) (variance-preserving);
* ``shifted_relu``: (relu(x) - 1/sqrt(2 pi)) / sqrt(1/2 - 1/(2 pi)), the ReLU
  with the mean and std it has on N(0, 1) input removed, N(0, 1/width);
* ``bn``: Linear -> BatchNorm1d (training mode, batch statistics) -> ReLU, He
  init.  This network is measured on the batch that set its statistics, so
  every pre-ReLU channel mean is exactly 0 and the share is forced below the
  noise floor: it shows what BN does to the batch it sees, not whether the
  network keeps its input;
* ``bn_frozen``: the same network with its statistics frozen from one other
  batch of ``--batch`` inputs (eval mode after one training-mode pass with
  ``momentum=None``), evaluated on the inputs all the networks see: the real
  control, a fixed per-channel centring and scaling like any other layer.

For each block's output H (examples x channels) the demo measures the share of
the variance that lies *between channels*,

    share = Var_c(mean_n H[n, c]) / Var_{n,c}(H[n, c]),

(by the law of total variance, 1 - share is the part that varies from input to
input within a channel), and the mean pairwise cosine similarity of the rows.
For ``relu`` it also gives the infinite-width prediction
share_l = (rho_l - 1/pi) / (1 - 1/pi), rho_l = k(rho_{l-1}), rho_0 = 0.

The noise floor: even a network that keeps all of its input, with every
channel's mean over the input distribution the same, shows a share of about
1/batch, because each channel mean is estimated from ``--batch`` inputs and
such an estimate scatters with variance Var/batch.  A share near 1/batch is
therefore "no collapse measurable"; only a network that normalises the very
batch it is measured on can go below it.
What to look for: ``relu`` passes 0.9 by layer 20; the controls stay under
0.05.  Related reading: Daneshmand et al. (2020), "Batch normalization
provably avoids rank collapse"; Brock, De & Smith (2021) on mean shift in
unnormalised networks.
"""
import math
import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):        # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tinygrad_bn as tg                      # noqa: E402
from tinygrad_bn import nn                    # noqa: E402
from demos.common import Progress, demo_parser, pyplot, require_at_least, save_figure, save_run, style  # noqa: E402

NETWORKS = ("relu", "linear", "shifted_relu", "bn", "bn_frozen")
LABELS = {"relu": "ReLU, He init (without BN)", "linear": "linear (no nonlinearity)",
          "shifted_relu": "shifted-and-scaled ReLU", "bn": "Linear -> BN -> ReLU, measured on its own batch",
          "bn_frozen": "Linear -> BN -> ReLU, statistics frozen from another batch"}
LOOKS = {"relu": style("plain", linestyle="-"), "linear": {"color": "tab:gray"},
         "shifted_relu": {"color": "tab:green"}, "bn": style("bn", linestyle=":"), "bn_frozen": style("bn")}
RELU_MEAN = 1 / math.sqrt(2 * math.pi)              # E[relu(u)], u ~ N(0, 1)
RELU_STD = math.sqrt(0.5 - 1 / (2 * math.pi))       # std of relu(u), u ~ N(0, 1)
COLLAPSED, CONTROL_LIMIT, BY_LAYER = 0.9, 0.05, 20  # the claims: relu > 0.9 by layer 20, controls < 0.05


def parse_args(argv=None):
    p = demo_parser(__doc__.split("\n\n")[0], "runs/constant_collapse")
    p.add_argument("--width", type=int, default=2048, help="units per layer (and input dimension)")
    p.add_argument("--depth", type=int, default=50, help="number of Linear + nonlinearity blocks")
    p.add_argument("--batch", type=int, default=512, help="number of Gaussian inputs")
    args = p.parse_args(argv)
    if args.quick:
        args.width, args.depth, args.batch = min(args.width, 256), min(args.depth, 20), min(args.batch, 128)
    require_at_least(p, args, ("width", "depth", "batch"), 2)
    return args


class ShiftedReLU(nn.Module):
    """y = (relu(x) - 1/sqrt(2 pi)) / sqrt(1/2 - 1/(2 pi)): zero mean and unit variance on N(0, 1) input."""

    def forward(self, x):
        return (x.relu() - RELU_MEAN) / RELU_STD


def build_blocks(kind, width, depth, device):
    """``depth`` blocks (each an nn.Sequential) of network ``kind``, freshly initialised."""
    blocks = []
    for _ in range(depth):
        dense = nn.Linear(width, width, bias=False, device=device)
        gain_for = "linear" if kind in ("linear", "shifted_relu") else "relu"
        nn.init.kaiming_normal_(dense.weight, nonlinearity=gain_for)
        after = [nn.ReLU()] if kind == "relu" else [] if kind == "linear" else [ShiftedReLU()] \
            if kind == "shifted_relu" else [nn.BatchNorm1d(width, momentum=None, device=device), nn.ReLU()]
        blocks.append(nn.Sequential(dense, *after))
    return blocks


def between_channel_share(h):
    """Var over channels of the per-channel means, over the variance of all entries of h (examples x channels)."""
    h = h.astype(np.float64)
    return float(h.mean(axis=0).var() / h.var())


def mean_cosine_similarity(h):
    """The average cosine similarity over all pairs of distinct rows of h."""
    rows = h.astype(np.float64)
    rows = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    n = len(rows)
    return float((np.sum(rows.sum(axis=0) ** 2) - n) / (n * (n - 1)))


def relu_theory(depth):
    """Infinite-width share per layer for the He-initialised ReLU network on uncorrelated inputs."""
    rho, shares = 0.0, []
    for _ in range(depth):
        rho = (math.sqrt(max(1 - rho * rho, 0.0)) + (math.pi - math.acos(min(rho, 1.0))) * rho) / math.pi
        shares.append((rho - 1 / math.pi) / (1 - 1 / math.pi))
    return shares


def first_layer_at_least(values, level):
    """1-based index of the first layer whose value reaches ``level`` (None if none does)."""
    return next((i + 1 for i, v in enumerate(values) if v >= level), None)


def freeze_statistics(blocks, batch):
    """One training-mode pass over ``batch`` (momentum None: the running statistics become that batch's),
    then eval mode: every BN layer is a fixed affine map from then on."""
    h = batch
    for block in blocks:
        h = block(h)
        block.eval()


@tg.no_grad()
def run(args):
    tg.manual_seed(args.seed)
    inputs = tg.randn(args.batch, args.width, device=args.device)
    results = {"layers": list(range(1, args.depth + 1)),
               "input": {"share": between_channel_share(inputs.numpy()),
                         "cosine": mean_cosine_similarity(inputs.numpy())}}
    progress = Progress(len(NETWORKS) * args.depth, not args.no_progress)
    started = time.perf_counter()
    statistics_batch = tg.randn(args.batch, args.width, device=args.device)
    for k, kind in enumerate(NETWORKS):
        shares, cosines, stds = [], [], []
        h = inputs
        blocks = build_blocks(kind, args.width, args.depth, args.device)
        if kind == "bn_frozen":
            freeze_statistics(blocks, statistics_batch)
        for layer, block in enumerate(blocks):
            h = block(h)
            host = h.numpy()
            shares.append(between_channel_share(host))
            cosines.append(mean_cosine_similarity(host))
            stds.append(float(host.std()))
            progress.update(k * args.depth + layer + 1, f"{kind} layer {layer + 1} share {shares[-1]:.3f}")
        results[kind] = {"share": shares, "cosine": cosines, "std": stds,
                         "max_share": max(shares), "final_share": shares[-1],
                         "first_layer_share_0.9": first_layer_at_least(shares, COLLAPSED)}
    progress.close()
    results["relu_theory_share"] = relu_theory(args.depth)
    results["floor_1_over_batch"] = 1 / args.batch
    controls_max = max(results[kind]["max_share"] for kind in NETWORKS if kind != "relu")
    crossed = results["relu"]["first_layer_share_0.9"]
    results["claims"] = {
        "relu_share_passes_0.9_by_layer_20": crossed is not None and crossed <= BY_LAYER,
        "relu_first_layer_above_0.9": crossed,
        "controls_max_share": controls_max,
        "controls_stay_under_0.05": controls_max < CONTROL_LIMIT,
    }
    results["seconds"] = round(time.perf_counter() - started, 1)
    return results


def headline(record):
    """The numbers docs/demos.md reports, as median and range over seeds."""
    numbers = {"relu first layer with share >= 0.9": record["relu"]["first_layer_share_0.9"],
               "relu share at the last layer": record["relu"]["final_share"]}
    numbers.update({f"{kind} largest share": record[kind]["max_share"] for kind in NETWORKS if kind != "relu"})
    return numbers


def quick_claims(record):
    """What ``python -m demos.all --check`` asserts of the quick run (width 256, depth 20, 128 inputs)."""
    return {
        "constant collapse (quick): ReLU at He init has a share above 0.85 at layer 20":
            record["relu"]["share"][-1] > 0.85,
        "constant collapse (quick): linear, shifted ReLU and both BN networks stay under 0.05 at every layer":
            all(record[kind]["max_share"] < CONTROL_LIMIT for kind in NETWORKS if kind != "relu"),
    }


def plot(results, config, path):
    """(a) between-channel share per layer, (b) the same on a log axis, (c) mean cosine similarity."""
    plt = pyplot()
    layers = results["layers"]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for kind in NETWORKS:
        for ax in axes[:2]:
            ax.plot(layers, results[kind]["share"], marker=".", **{**LOOKS[kind], "label": LABELS[kind]})
        axes[2].plot(layers, results[kind]["cosine"], marker=".", **{**LOOKS[kind], "label": LABELS[kind]})
    theory = np.asarray(results["relu_theory_share"])
    axes[0].plot(layers, theory, "k--", linewidth=1, label="ReLU, infinite-width theory")
    axes[1].plot(layers[1:], theory[1:], "k--", linewidth=1)        # layer 1's prediction is 0
    for ax in axes[:2]:
        ax.axhline(COLLAPSED, color="grey", linestyle=":", linewidth=1)
        ax.axhline(CONTROL_LIMIT, color="grey", linestyle=":", linewidth=1)
        ax.set(xlabel="layer", ylabel="Var(channel means) / total variance")
        ax.grid(alpha=0.3)
    axes[0].set(title="(a) share of variance between channels", ylim=(-0.02, 1.02))
    floor = axes[1].axhline(results["floor_1_over_batch"], color="k", linestyle="-.", linewidth=0.8)
    axes[1].set(title="(b) the same, log scale", yscale="log")
    axes[1].set_ylim(bottom=min(axes[1].get_ylim()[0], 1e-5))
    axes[2].set(title="(c) mean cosine similarity between inputs", xlabel="layer", ylabel="cosine", ylim=(-0.05, 1.02))
    axes[2].grid(alpha=0.3)
    floor.set_label("1 / batch: the noise floor of a channel mean over the batch")
    fig.legend(handles=axes[0].get_lines()[:len(NETWORKS) + 1] + [floor], loc="lower center", ncol=4, fontsize=8,
               frameon=False)
    fig.suptitle(f"Collapse to a constant function at initialisation (Page 2019): {config['depth']} layers of "
                 f"width {config['width']}, {config['batch']} Gaussian inputs, seed {config['seed']}", fontsize=10)
    save_figure(fig, path, rect=(0, 0.12, 1, 1))


def main(argv=None):
    args = parse_args(argv)
    record = save_run(args.out, "constant_collapse", vars(args), run(args),
                      lambda record, path: plot(record, record["config"], path))
    for kind in NETWORKS:
        r = record[kind]
        print(f"{LABELS[kind]:>26}: share at layer 1 {r['share'][0]:.4f}, "
              f"layer {min(BY_LAYER, args.depth)} {r['share'][min(BY_LAYER, args.depth) - 1]:.4f}, "
              f"last {r['final_share']:.4f}, max {r['max_share']:.4f}")
    print(f"claims: {record['claims']}  ({record['seconds']} s)")
    return record


if __name__ == "__main__":
    main()
