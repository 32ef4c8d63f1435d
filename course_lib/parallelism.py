"""Timing an RNN layer against real attention layers, for training and for generation (chapter 07).

Three layers of width d_model on a time-first sequence x: (T, B, d_model):

- "RNN": torch.nn.RNN (tanh), T dependent steps;
- "attention (course)": the course's `multi_head_attention` with a causal mask (chapter 09's code);
- "attention (sdpa)": the same projections around torch's fused `scaled_dot_product_attention(is_causal=True)`.

Training is teacher-forced: the whole sequence is known, so attention handles all T positions in one call
(forward and backward). Generation produces one position at a time from the previous output: T dependent
steps for every layer. Without a cache attention recomputes the whole prefix at every step; "attention
(sdpa, cached)" keeps the keys and values of earlier positions and computes one query per step.

Times are the best of `repeats` runs after a warm-up (the minimum is the least disturbed by other
processes on a shared machine), in seconds, at a chosen number of threads.
"""
import contextlib
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from course_lib.attention import causal_mask, init_attention_params, multi_head_attention
from course_lib.reproducibility import seeded

TRAINING_LAYERS = ("RNN", "attention (course)", "attention (sdpa)")
GENERATION_LAYERS = (*TRAINING_LAYERS, "attention (sdpa, cached)")


@contextlib.contextmanager
def torch_threads(n):
    """Run the block with torch using n threads, then restore the previous count."""
    if not (isinstance(n, int) and n >= 1):
        raise ValueError(f"threads must be a positive int, got {n!r}.")
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def best_time(fn, repeats=3):
    """Seconds of the fastest of `repeats` calls of fn(), after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


class Layers:
    """The three layers with their weights, d_model wide, n_heads heads for attention."""

    def __init__(self, d_model=64, n_heads=4, seed=0):
        generator = torch.Generator().manual_seed(seed)
        self.d_model, self.n_heads = d_model, n_heads
        with seeded(seed):  # torch initialises the RNN from its global generator: seeded, then restored
            self.rnn = torch.nn.RNN(d_model, d_model)
        self.params = {k: v.requires_grad_() for k, v in init_attention_params(d_model, generator).items()}

    def _heads(self, y):  # (T, B, d_model) -> (B, n_heads, T, d_k)
        T, B, _ = y.shape
        return y.reshape(T, B, self.n_heads, -1).permute(1, 2, 0, 3)

    def _qkv(self, x):
        p = self.params
        return [self._heads(x @ p[f"W_{n}"] + p[f"b_{n}"]) for n in "qkv"]

    def _merge(self, heads):  # (B, n_heads, T, d_k) -> (T, B, d_model), then the output projection
        B, _, T, _ = heads.shape
        return heads.permute(2, 0, 1, 3).reshape(T, B, self.d_model) @ self.params["W_o"] + self.params["b_o"]

    def forward(self, name, x):
        """All T positions of x: (T, B, d_model) at once (teacher forcing) -> (T, B, d_model)."""
        if name == "RNN":
            return self.rnn(x)[0]
        if name == "attention (course)":
            return multi_head_attention(x, self.params, self.n_heads, causal_mask(x.shape[0]))[0]
        if name == "attention (sdpa)":
            return self._merge(F.scaled_dot_product_attention(*self._qkv(x), is_causal=True))
        raise ValueError(f"name must be one of {TRAINING_LAYERS}, got {name!r}.")

    def generate(self, name, x0, T):
        """T positions one at a time, each fed the previous output; x0: (1, B, d_model). -> (T, B, d_model)."""
        outputs, h, keys, values = [x0], None, [], []
        for _ in range(T):
            x = outputs[-1]
            if name == "RNN":
                y, h = self.rnn(x, h)
            elif name == "attention (sdpa, cached)":
                q, k, v = self._qkv(x)                  # only the new position's projections
                keys.append(k)
                values.append(v)
                y = self._merge(F.scaled_dot_product_attention(q, torch.cat(keys, 2), torch.cat(values, 2)))
            else:                                       # no cache: the whole prefix again, keep its last output
                y = self.forward(name, torch.cat(outputs))[-1:]
            outputs.append(torch.tanh(y))               # the next input depends on this output
        return torch.cat(outputs[1:])


def time_training(lengths, threads=1, batch=1, d_model=64, n_heads=4, repeats=3):
    """Seconds of one forward + backward pass over all T positions, per layer and length.
    returns {"T": [...], layer name: [seconds per T]}."""
    layers, result = Layers(d_model, n_heads), {"T": list(lengths)}
    with torch_threads(threads):
        for name in TRAINING_LAYERS:
            result[name] = []
            for T in lengths:
                x = torch.randn(T, batch, d_model)
                result[name].append(best_time(lambda: layers.forward(name, x).square().mean().backward(), repeats))
    return result


def time_generation(lengths, threads=1, batch=1, d_model=64, n_heads=4, repeats=3, names=GENERATION_LAYERS):
    """Seconds to generate T positions one at a time (no gradients), per layer and length.
    returns {"T": [...], layer name: [seconds per T]}."""
    layers, result = Layers(d_model, n_heads), {"T": list(lengths)}
    with torch_threads(threads), torch.no_grad():
        for name in names:
            result[name] = []
            for T in lengths:
                x0 = torch.randn(1, batch, d_model)
                result[name].append(best_time(lambda: layers.generate(name, x0, T), repeats))
    return result


def forward_flops(name, T, batch=1, d_model=64):
    """Multiply-adds x 2 of one forward pass over T positions: the RNN does 2 (B, d) @ (d, d) products per
    step; attention does 4 (T*B, d) @ (d, d) projections plus the T x T scores and the weighted sum."""
    projections = 2 * batch * T * d_model * d_model
    if name == "RNN":
        return 2 * projections
    return 4 * projections + 2 * 2 * batch * T * T * d_model


def summarize(training, generation):
    """The quantities chapter 07 prints and asserts, from one thread count's timings (training at T =
    (short, medium, long), generation at (short, medium)): arithmetic rates in training at the medium T
    (FLOP/s; the backward pass costs about twice the forward's products), the RNN's time per step, each
    layer's time growth from medium to long T, the T x T products' share of attention's arithmetic at the
    long T, how much longer generating the medium T takes than training on it (sdpa), and each attention
    layer's speed-up over the RNN in training at the long T."""
    T = training["T"]
    return {"flop_rate": {n: 3 * forward_flops(n, T[1]) / training[n][1] for n in TRAINING_LAYERS},
            "rnn_step_s": [s / t for s, t in zip(training["RNN"], T)],
            "growth": {n: training[n][2] / training[n][1] for n in TRAINING_LAYERS},
            "scores_share": 4 * T[2] ** 2 * 64 / forward_flops("attention (course)", T[2]),
            "generate_vs_train": generation["attention (sdpa)"][1] / training["attention (sdpa)"][1],
            "speedup_over_rnn": {n: training["RNN"][2] / training[n][2] for n in TRAINING_LAYERS[1:]}}


def one_thread_claims(summary):
    """Chapter 07's claims, each with a margin wide enough for a loaded machine: {claim: holds}."""
    rate, growth = summary["flop_rate"], summary["growth"]
    return {"matrix-matrix work: attention's arithmetic rate > 5x the RNN's": rate["attention (course)"] > 5 * rate["RNN"],
            "a fixed cost per step: the RNN's time grows x4 to x16 for 8x the positions": 4 < growth["RNN"] < 16,
            "the T x T scores: attention's time grows > 1.5x faster than the RNN's": growth["attention (course)"] > 1.5 * growth["RNN"],
            "generation is T dependent steps: > 5x training on the same positions": summary["generate_vs_train"] > 5}


RESULTS_FILE = Path(__file__).resolve().parent.parent / "benchmarks" / "parallelism.json"


def measure_machine(train_T=(16, 128, 1024), generate_T=(16, 128), thread_counts=(1, 2)):
    """Both timings at each thread count, labelled with the machine they ran on (for benchmarks/parallelism.py),
    with chapter 07's claims checked on each. returns {"machine": {...}, "threads": {"n": {"training": {...},
    "generation": {...}, "claims": {...}}}}."""
    import os
    import platform
    machine = {"processor": platform.processor() or platform.machine(), "cpu_count": os.cpu_count(),
               "torch": torch.__version__, "load_average_before": os.getloadavg()[0]}
    threads = {}
    for n in thread_counts:
        training, generation = time_training(train_T, threads=n), time_generation(generate_T, threads=n)
        threads[str(n)] = {"training": training, "generation": generation,
                           "claims": one_thread_claims(summarize(training, generation))}
    machine["load_average_after"] = os.getloadavg()[0]
    return {"machine": machine, "threads": threads}


def format_measurements(results):
    """One line per (thread count, mode, layer): milliseconds at each T."""
    m = results["machine"]
    lines = [f"measured on: {m['processor']}, {m['cpu_count']} CPUs, torch {m['torch']}, 1-minute load average "
             f"{m['load_average_before']:.1f} before / {m['load_average_after']:.1f} after (milliseconds)"]
    for n, modes in results["threads"].items():
        for mode in ("training", "generation"):
            timings = modes[mode]
            for name in (k for k in timings if k != "T"):
                lines.append(f"{n} thread(s) {mode:10s} {name:26s}" + " | ".join(
                    f"T = {T:4d}: {1e3 * s:9.2f}" for T, s in zip(timings["T"], timings[name])))
    return "\n".join(lines)


def load_measurements(path=RESULTS_FILE):
    """benchmarks/parallelism.json as written by benchmarks/parallelism.py."""
    import json
    return json.loads(Path(path).read_text())
