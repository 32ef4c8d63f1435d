"""Figures the lectures draw: each returns a matplotlib Figure with a title and labelled axes."""
import matplotlib.pyplot as plt
import numpy as np
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


def draw_unrolled_rnn(T=4):
    """The RNN folded (one cell with a loop) and unrolled over T steps. Every arrow of one kind carries
    the same matrix — same colour, same name — because it is the same array at every step."""
    fig, (ax_fold, ax) = plt.subplots(1, 2, figsize=(9.5, 3.4), gridspec_kw={"width_ratios": [1, T + 0.5]})
    weight_colors = {"W_xh": "#3182bd", "W_hh": "#31a354", "W_hy": "#e6550d"}

    def labelled(ax, start, end, name, offset=(0.12, 0)):
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=10, lw=1.6, color=weight_colors[name]))
        mid = ((start[0] + end[0]) / 2 + offset[0], (start[1] + end[1]) / 2 + offset[1])
        ax.text(*mid, f"${name[0]}_{{{name[2:]}}}$", color=weight_colors[name], fontsize=10, ha="left", va="center")

    for axis, steps, names in ((ax_fold, [None], ["x_t", "h_t", "y_t"]), (ax, range(T), None)):
        for t in steps:
            col = 0 if t is None else t * 1.4
            xs, hs, ys = (names or [f"x_{t}", f"h_{t}", f"y_{t}"])
            _box(axis, col, 0, f"${xs}$", _COLORS["x"])
            _box(axis, col, 1.2, f"${hs}$", _COLORS["h"])
            _box(axis, col, 2.4, f"${ys}$", _COLORS["y"])
            labelled(axis, (col, 0.3), (col, 0.9), "W_xh")
            labelled(axis, (col, 1.5), (col, 2.1), "W_hy")
            if t is not None and t > 0:
                labelled(axis, (col - 1.1, 1.2), (col - 0.3, 1.2), "W_hh", offset=(-0.25, 0.18))
        axis.set_ylim(-0.6, 3.0)
        axis.set_aspect("equal")
        axis.set_yticks([0, 1.2, 2.4], ["input", "hidden", "output"])
    ax_fold.add_patch(FancyArrowPatch((0.3, 1.35), (0.3, 1.05), connectionstyle="arc3,rad=-2.5", arrowstyle="-|>",
                                      mutation_scale=10, lw=1.6, color=weight_colors["W_hh"]))
    ax_fold.text(0.75, 1.2, "$W_{hh}$", color=weight_colors["W_hh"], fontsize=10, va="center")
    ax_fold.set_xlim(-0.6, 1.3)
    ax_fold.set_xticks([])
    ax_fold.set_title("folded: one cell, a loop")
    ax_fold.set_xlabel("(any t)")
    ax.set_xlim(-0.6, (T - 1) * 1.4 + 0.8)
    ax.set_xticks([t * 1.4 for t in range(T)], [str(t) for t in range(T)])
    ax.set_xlabel("time step t")
    ax.set_title(f"unrolled over T = {T} steps: the same $W_{{xh}}$, $W_{{hh}}$, $W_{{hy}}$ at every step")
    fig.suptitle("The RNN cell, folded and unrolled")
    fig.tight_layout()
    return fig


def plot_jacobian_norms(curves, title, ax=None, state="h", styles=None):
    """Norm of d h_{T-1} / d h_t (or of c, with state="c") against the distance T - 1 - t, log scale.

    curves: {label: norms (T + 1,)}, norms[t + 1] for the state h_t, t = -1..T-1 (norms[0]: the initial
    state h_{-1}, at distance T). styles: optional {label: matplotlib keyword dict} (e.g. a dashed line)."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 4))
    else:
        fig = ax.figure
    for label, norms in curves.items():
        distance = np.arange(len(norms))[::-1]  # norms[t + 1], for h_t, sits at distance T - 1 - t
        ax.semilogy(distance, norms, **{"marker": ".", **(styles or {}).get(label, {})}, label=label)
    ax.set_title(title)
    ax.set_xlabel("distance T - 1 - t (steps back in time)")
    ax.set_ylabel(f"||d {state}_(T-1) / d {state}_t||  (spectral norm)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def draw_clock_hands(T=12, d_model=16, pairs=(0, 2, 4), steps=(0, 1, 2, 3, 4, 5)):
    """Each (sin, cos) pair of the sinusoidal code is a clock hand turning by omega_k per position:
    fast hands for low k, slow hands for high k. One panel per pair, one hand per position."""
    from course_lib.positions import sinusoidal_positions
    pe = sinusoidal_positions(T, d_model).numpy()
    fig, axes = plt.subplots(1, len(pairs), figsize=(3.2 * len(pairs), 3.4))
    colors = plt.cm.viridis(np.linspace(0, 1, len(steps)))
    for ax, k in zip(axes, pairs):
        omega = 10000 ** (-2 * k / d_model)
        ax.add_patch(plt.Circle((0, 0), 1, fill=False, color="lightgray"))
        for t, color in zip(steps, colors):
            ax.annotate("", xy=(pe[t, 2 * k + 1], pe[t, 2 * k]), xytext=(0, 0),
                        arrowprops=dict(arrowstyle="-|>", color=color, lw=1.5))
            ax.text(1.12 * pe[t, 2 * k + 1], 1.12 * pe[t, 2 * k], str(t), color=color, ha="center", va="center", fontsize=8)
        ax.set_xlim(-1.3, 1.3)
        ax.set_ylim(-1.3, 1.3)
        ax.set_aspect("equal")
        ax.set_title(f"pair k={k}: {omega:.3g} rad per step")
        ax.set_xlabel(f"cos (dimension {2 * k + 1})")
        ax.set_ylabel(f"sin (dimension {2 * k})")
    fig.suptitle("Each frequency is a clock hand; the position is the time it shows")
    fig.tight_layout()
    return fig


def draw_encoder_decoder(source=("A", "B", "C"), target=("x", "y", "z", "w")):
    """Many-to-many with different lengths (translation): an encoder reads the source, its last state
    (the only bridge, the "bottleneck" chapter 07 measures) starts a decoder that writes the target,
    feeding each output back in as its next input."""
    fig, ax = plt.subplots(figsize=(9, 3.4))
    n = len(source)
    for t, token in enumerate(source):
        _box(ax, t, 0, token, _COLORS["x"])
        _box(ax, t, 1, f"$e_{t + 1}$", _COLORS["h"])
        _arrow(ax, (t, 0.3), (t, 0.7))
        if t > 0:
            _arrow(ax, (t - 0.7, 1), (t - 0.3, 1))
    for j, token in enumerate(target):
        x = n + 0.6 + j
        _box(ax, x, 1, f"$d_{j + 1}$", _COLORS["h"])
        _box(ax, x, 2, token, _COLORS["y"])
        _arrow(ax, (x, 1.3), (x, 1.7))
        _arrow(ax, (x - 1 + 0.3 if j else n - 0.7, 1), (x - 0.3, 1))
        if j + 1 < len(target):  # the word just written is the next step's input
            _arrow(ax, (x + 0.2, 2.3), (x + 0.8, 1.3))
    ax.text(n - 0.1, 0.35, "one vector\ncarries the\nwhole source", ha="center", fontsize=8)
    ax.set_xlim(-0.6, n + len(target) + 0.2)
    ax.set_ylim(-0.6, 2.6)
    ax.set_title("Translation: an encoder (left) reads, a decoder (right) writes, of a different length")
    ax.set_xlabel("step (encoder steps, then decoder steps)")
    ax.set_yticks([0, 1, 2], ["source", "state", "target"])
    ax.set_aspect("equal")
    fig.tight_layout()
    return fig


def plot_confusion(counts, labels, title, ax=None):
    """A confusion matrix: counts[i, j] = items of true class i predicted as j, numbers written in."""
    if ax is None:
        _, ax = plt.subplots(figsize=(4.6, 4))
    ax.imshow(counts, cmap="Blues")
    for i in range(counts.shape[0]):
        for j in range(counts.shape[1]):
            ax.text(j, i, int(counts[i, j]), ha="center", va="center",
                    color="white" if counts[i, j] > counts.max() / 2 else "black")
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_title(title)
    ax.set_xlabel("predicted type")
    ax.set_ylabel("true type")
    return ax


def draw_scan(T=8):
    """linear_scan's rounds for T steps (chapter 12), numbered r = 0, 1, ... as in the text: the row after round r
    holds, at position t, the combination of steps max(0, t - 2^(r+1) + 1) .. t; an arrow from t - d into t is one
    `combine` of round r (d = 2^r), a straight line a position already complete. The arrows of a round are
    independent of each other."""
    rounds = int(np.ceil(np.log2(T))) if T > 1 else 0
    fig, ax = plt.subplots(figsize=(1.1 * T + 1.5, 1.1 * rounds + 1.8))
    for r in range(rounds + 1):
        d = 2 ** r
        for t in range(T):
            first = max(0, t - d + 1)
            _box(ax, t, -r, f"{first}:{t}" if first < t else f"{t}", _COLORS["h"] if first == 0 else _COLORS["x"])
            if r < rounds:
                if t >= d:
                    _arrow(ax, (t - d + 0.2, -r - 0.3), (t - 0.1, -r - 0.7))
                _arrow(ax, (t, -r - 0.3), (t, -r - 0.7))
    ax.set_xlim(-0.6, T - 0.4)
    ax.set_ylim(-rounds - 0.6, 0.6)
    ax.set_yticks([-r for r in range(rounds + 1)], ["steps"] + [f"after round {r} (d = {2 ** r})" for r in range(rounds)])
    ax.set_xticks(range(T))
    ax.set_xlabel("position t")
    ax.set_aspect("equal")
    ax.set_title(f"Parallel scan of T = {T} steps in {rounds} rounds: box 'a:t' holds steps a..t combined "
                 "(green: complete, = h_t)", fontsize=10)
    fig.tight_layout()
    return fig
