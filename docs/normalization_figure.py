"""Draw docs/figures/normalization.png: which values each normalization averages over.

Top row: a (N, C, H, W) activation as a cube, H and W on one axis (the picture of
Wu & He, 2018, Figure 2); the shaded values form one group, normalised by their
own mean and variance.  Bottom row: the same for (N, C) input, where a group is a
row (BatchNorm), a column (LayerNorm), part of a column (GroupNorm), one value
(InstanceNorm: nothing to average, so it needs spatial axes) or part of a row
(ghost batches).

    python docs/normalization_figure.py [--out docs/figures/normalization.png]
"""
import argparse
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

N, C, HW = 6, 6, 4               # samples, channels, spatial positions in the picture
GROUP, GHOST = 2, 3              # channels per group (GroupNorm), samples per ghost batch
SHADE, REST = "tab:purple", (0.85, 0.85, 0.85, 0.25)

# For each layer: the (n, c) cells of one group (every spatial position belongs to it too)
LAYERS = {
    "BatchNorm": lambda n, c: c == 0,
    "LayerNorm": lambda n, c: n == 0,
    "InstanceNorm": lambda n, c: (n == 0) & (c == 0),
    "GroupNorm": lambda n, c: (n == 0) & (c < GROUP),
    "ghost batches": lambda n, c: (n < GHOST) & (c == 0),
}
CAPTIONS = {
    "BatchNorm": "per channel, over N, H, W",
    "LayerNorm": "per sample, over C, H, W",
    "InstanceNorm": "per sample and channel,\nover H, W",
    "GroupNorm": f"per sample and group of\n{GROUP} channels, over them and H, W",
    "ghost batches": f"per channel and ghost batch\nof {GHOST} samples, over them and H, W",
}


def cube(ax, in_group):
    n, c, _ = np.indices((N, C, HW))
    group = in_group(n, c)
    colors = np.where(group[..., None], matplotlib.colors.to_rgba(SHADE, 0.9), REST)
    ax.voxels(np.ones(group.shape, dtype=bool), facecolors=colors, edgecolor=(0.3, 0.3, 0.3, 0.4), linewidth=0.3)
    ax.set_xlabel("N", labelpad=-12)
    ax.set_ylabel("C", labelpad=-12)
    ax.set_zlabel("H, W", labelpad=-12)
    ax.set_xticks([]), ax.set_yticks([]), ax.set_zticks([])
    ax.view_init(elev=22, azim=-58)
    ax.set_box_aspect((N, C, HW))


def grid(ax, in_group, note=None):
    """(N, C) input as a grid, N left to right as in the cube, C top to bottom."""
    c, n = np.indices((C, N))
    ax.imshow(in_group(n, c), cmap=matplotlib.colors.ListedColormap([REST[:3], SHADE]), vmin=0, vmax=1,
              origin="upper", aspect="equal")
    ax.set_xticks(np.arange(N + 1) - 0.5, minor=True), ax.set_yticks(np.arange(C + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="white", linewidth=1.5)
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    ax.set_xlabel("N"), ax.set_ylabel("C")
    if note:
        ax.text(N / 2 - 0.5, C / 2, note, ha="center", va="center", fontsize=9,
                bbox=dict(facecolor="white", edgecolor="none", alpha=0.85))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "figures",
                                                      "normalization.png"))
    args = parser.parse_args()
    fig = plt.figure(figsize=(15, 6.4))
    for k, (name, in_group) in enumerate(LAYERS.items()):
        ax = fig.add_subplot(2, len(LAYERS), k + 1, projection="3d")
        cube(ax, in_group)
        ax.set_title(f"{name}\n{CAPTIONS[name]}", fontsize=10)
        note = "one value per group:\nno variance without H, W" if name == "InstanceNorm" else None
        grid(fig.add_subplot(2, len(LAYERS), len(LAYERS) + k + 1), in_group, note)
    fig.text(0.005, 0.70, "(N, C, H, W)", rotation=90, va="center", fontsize=11)
    fig.text(0.005, 0.25, "(N, C)", rotation=90, va="center", fontsize=11)
    fig.suptitle("One group of each normalization (shaded): its values share one mean and one variance", fontsize=12)
    fig.subplots_adjust(left=0.03, right=0.975, top=0.86, bottom=0.03, wspace=0.15, hspace=0.25)
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
