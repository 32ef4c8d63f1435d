"""Figures the lectures draw: each returns a matplotlib Figure with a title and labelled axes."""
import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

# (title, course example, which steps have an input, which have an output) for four time steps
PROBLEM_SHAPES = [
    ("one-to-one", "bigram: next char\nfrom this char", [0], [0]),
    ("one-to-many", "generate a tune\nfrom a start (ch. 06)", [0], [0, 1, 2, 3]),
    ("many-to-one", "jig or reel?\nfrom the notes (ch. 06)", [0, 1, 2, 3], [3]),
    ("many-to-many", "next char at\nevery step (ch. 02-06)", [0, 1, 2, 3], [0, 1, 2, 3]),
]
_COLORS = {"x": "#9ecae1", "h": "#a1d99b", "y": "#fdae6b"}


def _box(ax, x, y, label, color):
    ax.add_patch(FancyBboxPatch((x - 0.3, y - 0.3), 0.6, 0.6, boxstyle="round,pad=0.02", fc=color, ec="black", lw=0.8))
    ax.text(x, y, label, ha="center", va="center", fontsize=9)


def _arrow(ax, start, end):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=8, lw=0.8, color="black"))


def draw_problem_shapes():
    """The four problem shapes as unrolled diagrams: inputs x_t (blue) below, hidden states h_t (green),
    outputs y_t (orange) above; arrows between hidden states are the recurrence."""
    fig, axes = plt.subplots(1, 4, figsize=(12, 3.4))
    for ax, (title, example, inputs, outputs) in zip(axes, PROBLEM_SHAPES):
        steps = max(inputs + outputs) + 1
        for t in range(steps):
            _box(ax, t, 1, f"$h_{t}$", _COLORS["h"])
            if t in inputs:
                _box(ax, t, 0, f"$x_{t}$", _COLORS["x"])
                _arrow(ax, (t, 0.3), (t, 0.7))
            if t in outputs:
                _box(ax, t, 2, f"$y_{t}$", _COLORS["y"])
                _arrow(ax, (t, 1.3), (t, 1.7))
            if t > 0:
                _arrow(ax, (t - 0.7, 1), (t - 0.3, 1))
        ax.set_xlim(-0.6, 3.6)
        ax.set_ylim(-0.6, 2.6)
        ax.set_title(f"{title}\n{example}", fontsize=10)
        ax.set_xlabel("time step t")
        ax.set_xticks(range(4))
        ax.set_yticks([0, 1, 2], ["input", "hidden", "output"])
        ax.set_aspect("equal")
    fig.suptitle("The four problem shapes, unrolled over time")
    fig.tight_layout()
    return fig
