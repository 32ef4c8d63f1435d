"""Chapter 11 — turning a trained next-symbol model into generation: teacher forcing and exposure bias,
decoding strategies (temperature, top-k, nucleus), beam search, and the key/value cache.

Shapes time-first as everywhere: ids (T, B), logits (T, B, V); a decoding step works on the last axis of
logits (..., V).
"""
import copy
import json
import math
import re
import time
from dataclasses import replace
from pathlib import Path

import torch

from course_lib.attention import scaled_dot_product_attention
from course_lib.language_model import (LN2, LMBudget, TUNE_HEADERS, char_lstm, first_tune, held_out_bits_per_char,
                                       sample_next, train_language_model)
from course_lib.music import check_tune, tune_bars, wrong_bars
from course_lib.reproducibility import seeded
from course_lib.seq2seq import (REVERSE_TRAIN_LENGTHS, START_TOKEN, EncoderDecoder, accuracy_by_length, reverse_task,
                                train_reverse)
from course_lib.transformer import KVCache

NEG_INF = float("-inf")


# ---------------------------------------------------------------------------------------------------
# Decoding strategies: which tokens may be drawn at all


def top_k_filter(logits, k):
    """Keep the k largest logits of the last axis, set the others to -inf.

    logits: (..., V) float tensor; k >= 1 (k >= V keeps everything). An entry equal to the k-th largest
    is kept too, so ties at the boundary may keep more than k. returns a new tensor (..., V).
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}.")
    if k >= logits.shape[-1]:
        return logits.clone()
    kth_largest = logits.topk(k, dim=-1).values[..., -1:]
    return logits.masked_fill(logits < kth_largest, NEG_INF)


def top_p_filter(logits, p):
    """Nucleus filtering: keep the most probable tokens until their probabilities sum to at least p.

    logits: (..., V) float tensor; 0 < p <= 1. The token that makes the sum reach p is kept, so the most
    probable token always is. returns a new tensor (..., V), the dropped tokens set to -inf.
    """
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 < p <= 1:
        raise ValueError(f"p must be a number in (0, 1], got {p!r}.")
    probs, order = torch.softmax(logits, dim=-1).sort(dim=-1, descending=True)
    mass_before = probs.cumsum(dim=-1) - probs  # what the more probable tokens already hold
    drop_sorted = mass_before >= p
    drop = drop_sorted.scatter(-1, order, drop_sorted)  # back from sorted order to the vocabulary's
    return logits.masked_fill(drop, NEG_INF)


def decode_next(logits, rng, temperature=1.0, top_k=None, top_p=None):
    """One id per row of logits (B, V): argmax when temperature == 0; else the logits are divided by the
    temperature first, then filtered by top_k and then top_p (None: no filter; the nucleus is that of the
    tempered distribution), and one id is drawn from the softmax of what is left. returns (B,) int64."""
    if temperature == 0:
        return logits.argmax(dim=-1)
    logits = logits / temperature
    if top_k is not None:
        logits = top_k_filter(logits, top_k)
    if top_p is not None:
        logits = top_p_filter(logits, top_p)
    return sample_next(logits, 1.0, rng)


@torch.no_grad()
def decode(model, prompt, n, rng, **strategy):
    """Continue prompt (T0, B) ids by n ids with `decode_next(..., **strategy)`, feeding each back in.
    model: (x (T, B), state) -> (logits (T, B, V), state). returns (n, B) int64, the new ids only."""
    logits, state = model(prompt, None)
    out = [decode_next(logits[-1], rng, **strategy)]
    for _ in range(n - 1):  # the last id is not read back: nothing follows it
        logits, state = model(out[-1][None], state)
        out.append(decode_next(logits[-1], rng, **strategy))
    return torch.stack(out)


@torch.no_grad()
def sequence_bits(model, prompt, ids, per_position=False):
    """Bits per id of `ids` (n, B) under the model's own (unfiltered, temperature 1) distribution, read after
    `prompt` (T0, B): how likely the model finds what a decoder produced. returns (B,) float tensor, the
    mean over the n ids (per_position=True: (n, B), each id's own)."""
    logits, _ = model(torch.cat([prompt, ids[:-1]]), None)
    logp = torch.log_softmax(logits[len(prompt) - 1:].double(), dim=-1)
    bits = -logp.gather(-1, ids[..., None])[..., 0] / LN2
    return bits if per_position else bits.mean(dim=0)


# ---------------------------------------------------------------------------------------------------
# Teacher forcing and exposure bias (chapter 07's reverse task and encoder-decoder)


@torch.no_grad()
def error_by_position(model, L, n=1000, seed=10_000, n_symbols=8):
    """Per output position t of the reverse task at length L, the share of n fresh sequences whose token t
    is wrong: (teacher-forced (L,), free-running (L,)). Teacher-forced: the decoder reads the true previous
    target, as in training. Free-running: it reads its own previous output, as when it is used."""
    tokens, targets = reverse_task(L, n, torch.Generator().manual_seed(seed), n_symbols)
    forced = model(tokens, targets).argmax(dim=-1) != targets
    free = model.generate(tokens) != targets
    return forced.double().mean(dim=1), free.double().mean(dim=1)


def scheduled_sampling_loss(model, tokens, targets, p_own, rng):
    """Cross-entropy of an EncoderDecoder unrolled step by step, where each input after the start token is,
    with probability p_own per sequence and step, a token drawn from the model's own previous prediction
    (no gradient flows through the draw) instead of the true previous target (Bengio et al., 2015, whose
    epsilon is the probability of the *true* token: 1 - p_own)."""
    state = model.encode(tokens)
    inputs = torch.full((targets.shape[1],), START_TOKEN, dtype=torch.long)
    losses = []
    for t in range(len(targets)):
        logits, state = model.step(inputs, state)
        losses.append(torch.nn.functional.cross_entropy(logits, targets[t]))
        own = torch.rand(targets.shape[1], generator=rng) < p_own
        drawn = torch.multinomial(torch.softmax(logits.detach(), dim=-1), 1, generator=rng)[:, 0]
        inputs = torch.where(own, drawn, targets[t])
    return torch.stack(losses).mean()


def train_reverse_scheduled(model, lengths, final_p=0.25, steps=1500, batch=64, lr=3e-3, seed=0, n_symbols=8):
    """seq2seq.train_reverse with scheduled sampling: p_own rises linearly from 0 to final_p over the
    steps. Same batches, optimiser and clipping as train_reverse (final_p = 0 is teacher forcing)."""
    rng = torch.Generator().manual_seed(seed)
    coin = torch.Generator().manual_seed(seed + 1000)  # own or true input: kept apart from the batch draws
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for i in range(steps):
        L = int(lengths[torch.randint(len(lengths), (1,), generator=rng)])
        tokens, targets = reverse_task(L, batch, rng, n_symbols)
        loss = scheduled_sampling_loss(model, tokens, targets, final_p * i / max(steps - 1, 1), coin)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    return model


# ---------------------------------------------------------------------------------------------------
# Beam search


def beam_search(step, state, start_token, beam_size, max_len):
    """The sequence of max_len tokens with the highest total log-probability that a beam of `beam_size`
    hypotheses finds.

    step(tokens (K,), state) -> (logits (K, V), state): the model's next-token scores for K hypotheses;
    state: a tensor whose first axis indexes the hypotheses (K = 1 at the start); start_token: int, the
    first input. Each step extends every hypothesis by every token, scores each extension by its total
    log-probability (the sum of log_softmax(logits) of its chosen tokens) and keeps the beam_size best.
    returns (tokens (max_len,) int64, score float): the best hypothesis and its total log-probability.
    beam_size = 1 is greedy decoding.
    """
    if isinstance(beam_size, bool) or not isinstance(beam_size, int) or beam_size < 1:
        raise ValueError(f"beam_size must be an integer >= 1, got {beam_size!r}.")
    if isinstance(max_len, bool) or not isinstance(max_len, int) or max_len < 1:
        raise ValueError(f"max_len must be an integer >= 1, got {max_len!r}.")
    tokens = torch.tensor([start_token])
    scores = torch.zeros(1, dtype=torch.float64)
    history = torch.zeros(1, 0, dtype=torch.long)  # (K, steps so far)
    for _ in range(max_len):
        logits, state = step(tokens, state)
        V = logits.shape[-1]
        totals = (scores[:, None] + torch.log_softmax(logits.double(), dim=-1)).reshape(-1)  # (K * V,)
        scores, best = totals.topk(min(beam_size, len(totals)))
        beam, tokens = best // V, best % V  # which hypothesis each survivor extends, and by which token
        history = torch.cat([history[beam], tokens[:, None]], dim=1)
        state = state[beam]  # each survivor carries on from its own parent's state
    return history[0], float(scores[0])


def reverse_model_step(model):
    """Chapter 07's EncoderDecoder decoder as a beam-search step: state (K, H) instead of the GRU's (1, K, H)."""
    def step(tokens, state):
        logits, new_state = model.step(tokens, state[None])
        return logits, new_state[0]
    return step


def lm_step(model):
    """A chapter 06 CharLM as a beam-search step; the LSTM's (h, c), each (1, K, H), travel stacked as one
    (K, 2, H) state tensor."""
    def step(tokens, state):
        h, c = state.permute(1, 0, 2)[:, None].unbind(0)
        logits, (h, c) = model(tokens[None], (h.contiguous(), c.contiguous()))
        return logits[0], torch.stack([h[0], c[0]], dim=1)
    return step


@torch.no_grad()
def lm_start_state(model, prompt):
    """Where lm_step's beam starts after prompt (T0,) ids, T0 >= 2: (state (1, 2, H) after all but the last
    id, the last id as the start token)."""
    _, (h, c) = model(prompt[:-1, None], None)
    return torch.stack([h[0], c[0]], dim=1), int(prompt[-1])


@torch.no_grad()
def beam_accuracy(model, L, beam_sizes, n=500, seed=10_000, n_symbols=8):
    """Chapter 07's reverse task at length L, n fresh sequences decoded one by one with beam search:
    {beam_size: (share of sequences reversed exactly, mean total log-probability of the output, sequences
    this beam gets right that beam 1 (greedy) gets wrong, and the other way round)}: the last two pair the
    decoders on the same sequences."""
    rng = torch.Generator().manual_seed(seed)
    tokens, targets = reverse_task(L, n, rng, n_symbols)
    states = model.encode(tokens)[0]  # (n, H)
    if beam_sizes[0] != 1:
        raise ValueError(f"beam_sizes must start with 1 (greedy, the pairing's reference), got {beam_sizes}.")
    step, result, right_by_size = reverse_model_step(model), {}, {}
    for K in beam_sizes:
        right, logp = [], 0.0
        for b in range(n):
            out, score = beam_search(step, states[b:b + 1], START_TOKEN, K, L)
            right.append(bool((out == targets[:, b]).all()))
            logp += score
        right_by_size[K] = right
        greedy = right_by_size[1]
        result[K] = (sum(right) / n, logp / n, sum(r and not g for r, g in zip(right, greedy)),
                     sum(g and not r for r, g in zip(right, greedy)))
    return result


# ---------------------------------------------------------------------------------------------------
# The key/value cache


def cached_attention_step(q, k, v, keys, values):
    """Attention of one new position over itself and every cached position, and the cache it leaves.

    q, k: (..., 1, d_k), v: (..., 1, d_v): the new position's query, key and value; keys: (..., T_seen, d_k)
    and values: (..., T_seen, d_v): those of the T_seen positions before it (T_seen may be 0).
    returns (out (..., 1, d_v), keys (..., T_seen + 1, d_k), values (..., T_seen + 1, d_v)): out equals row
    T_seen of full causal attention over all T_seen + 1 positions; the new key and value are appended last.
    """
    keys, values = torch.cat([keys, k], dim=-2), torch.cat([values, v], dim=-2)
    out, _ = scaled_dot_product_attention(q, keys, values)  # the last position may attend to all: no mask
    return out, keys, values


def cache_bytes(cache):
    """Memory a transformer.KVCache holds: every key and value tensor, in bytes."""
    return sum(t.numel() * t.element_size() for t in cache.keys + cache.values)


@torch.no_grad()
def time_next_token(model, T, cached, repeats=5):
    """Seconds to compute the next token's logits after T - 1 ids with an AttentionLM (model), the median
    of `repeats`: cached=True reads one id against a KVCache of T - 1 positions; False re-reads all T ids."""
    ids = torch.zeros(T, 1, dtype=torch.long)
    cache = KVCache()
    if cached:
        model.read_with_cache(ids[:-1], cache)
    times = []
    for _ in range(repeats):
        trial = KVCache(list(cache.keys), list(cache.values))  # read_with_cache extends it: a fresh copy each time
        start = time.perf_counter()
        model.read_with_cache(ids[-1:], trial) if cached else model.window_logits(ids)
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


@torch.no_grad()
def time_lstm_token(model, T, repeats=5):
    """Seconds for one step of a chapter 06 CharLM after T - 1 ids (its state has the same size at every T)."""
    _, state = model(torch.zeros(T - 1, 1, dtype=torch.long), None)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model(torch.zeros(1, 1, dtype=torch.long), state)
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


# ---------------------------------------------------------------------------------------------------
# Measuring decoded tunes


def tune_body(text):
    """The notes of an ABC tune: its lines after the header's last field line."""
    lines = text.split("\n")
    body_start = max((i + 1 for i, line in enumerate(lines) if re.match(r"^[A-Za-z]:", line)), default=0)
    return "\n".join(lines[body_start:])


def distinct_ngrams(texts, n=4):
    """Share of the n-grams (of characters) of all the tunes' bodies that are distinct: 1.0 when no n-gram
    repeats anywhere, near 0 when the samples loop or copy each other."""
    grams = [body[i:i + n] for body in map(tune_body, texts) for i in range(len(body) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def repeated_pieces(text, n=8):
    """(how many of text's n-character pieces already occurred earlier in it, how many pieces it has)."""
    seen, repeats = set(), 0
    for i in range(len(text) - n + 1):
        repeats += text[i:i + n] in seen
        seen.add(text[i:i + n])
    return repeats, max(len(text) - n + 1, 0)


def repeated_ngram_share(texts, n=8):
    """Share of the n-character pieces of each tune's body that already occurred earlier in the same tune,
    over all the tunes: folk tunes repeat whole phrases now and then, a looping decoder all the time. (Counted
    in characters, not bars: a loop that writes no barline has no bars to repeat.)"""
    counts = [repeated_pieces(tune_body(text), n) for text in texts]
    total = sum(t for _, t in counts)
    return sum(r for r, _ in counts) / total if total else 0.0


# Decoding settings of the chapter's table: each a decode_next strategy.
DECODING_SETTINGS = {
    "greedy": dict(temperature=0),
    "T = 0.5": dict(temperature=0.5),
    "T = 1": dict(temperature=1.0),
    "top-k 5": dict(top_k=5),
    "top-p 0.9": dict(top_p=0.9),
}


def decoded_tunes(model, vocab, strategy, per_header, seed=1, max_len=400):
    """per_header reels and per_header jigs decoded with `strategy` (decode_next's keywords) from chapter
    06's headers, each cut where the model starts a next tune; and, for each, the bits per character of its
    decoded characters (up to the cut) under the model. returns (texts, bits: list of floats)."""
    rng = torch.Generator().manual_seed(seed)
    texts, bits = [], []
    for header in (TUNE_HEADERS["reel"], TUNE_HEADERS["jig"]):
        prompt = torch.from_numpy(vocab.encode(header))[:, None].repeat(1, per_header)
        ids = decode(model, prompt, max_len, rng, **strategy)
        position_bits = sequence_bits(model, prompt, ids, per_position=True)  # (max_len, per_header)
        for b in range(per_header):
            text = first_tune(header, vocab.decode(ids[:, b]))
            texts.append(text)
            bits.append(float(position_bits[:max(len(text) - len(header), 1), b].mean()))
    return texts, bits


def bars_in_meter(texts):
    """Share of all the tunes' bars whose length fits the meter (music.wrong_bars' rule: only a tune's or a
    section's first and last bars may be short): a graded view of rule 4 of the strict test."""
    counted = [(len(bars), len(wrong_bars(bars))) for bars in map(tune_bars, texts)]
    total = sum(n for n, _ in counted)
    return 1 - sum(w for _, w in counted) / total if total else 0.0


def decoding_row(model, vocab, strategy, per_header=20, seed=1):
    """One row of the decoding table, over the distinct samples only, copies counted once (greedy writes one
    tune per header however often it is asked: its copies are not more evidence): {"unique": distinct samples
    as a share of the 2 * per_header, "n": how many are distinct, "valid": share of those passing the strict
    test, "bars": mean bars per tune, "bars_in_meter", "distinct_4grams": share of distinct 4-grams within
    a sample (mean), "repeated_8grams", "bits": mean bits per character of a sample under the model}."""
    texts, bits = decoded_tunes(model, vocab, strategy, per_header, seed)
    first = {text: i for i, text in reversed(list(enumerate(texts)))}
    unique = sorted(first.values())
    texts, bits = [texts[i] for i in unique], [bits[i] for i in unique]
    mean = lambda values: sum(values) / len(values)
    return {"unique": len(texts) / (2 * per_header), "n": len(texts),
            "valid": mean([check_tune(t).valid for t in texts]), **text_measures(texts), "bits": mean(bits)}


def text_measures(texts):
    """The decoding table's columns that need no model: mean bars per tune, bars in meter, distinct 4-grams
    within a tune (mean), repeated 8-grams within a tune (pooled). Also measured on real held-out tunes."""
    return {"bars": sum(len(tune_bars(t)) for t in texts) / len(texts), "bars_in_meter": bars_in_meter(texts),
            "distinct_4grams": sum(distinct_ngrams([t]) for t in texts) / len(texts),
            "repeated_8grams": repeated_ngram_share(texts)}


def sign_test(wins, losses):
    """Two-sided exact sign test: the chance of a split at least this uneven between wins and losses if each
    were a fair coin (ties left out)."""
    n, k = wins + losses, min(wins, losses)
    return min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n) if n else 1.0


# ---------------------------------------------------------------------------------------------------
# The chapter's study: what the lecture trains for one seed and benchmarks/generation.py for three


STUDY_FILE = Path(__file__).resolve().parent.parent / "benchmarks" / "generation.json"
SEEDS = (0, 1, 2)
REVERSE_STEPS = 1000       # teacher-forced training of chapter 07's GRU encoder-decoder (H = 32), lengths 2-16
FINE_TUNE_STEPS = 300      # then this many more steps, teacher-forced or with scheduled sampling
SCHEDULED_P_GRID = (0.05, 0.1, 0.25)  # scheduled sampling's share of own inputs at the end, chosen on validation
VALIDATION_SEED, TEST_SEED = 20_000, 10_000  # the reverse-task sequences that choose, and those that are reported
STUDY_LENGTH = 8           # reverse-task length of the error-compounding and beam measurements
BEAM_SIZES = (1, 2, 4, 8)
LM_HIDDEN = 128            # the decoding study's language model: chapter 06's LSTM, smaller and shorter-trained
LM_BUDGET = LMBudget(steps=300, lr=1e-2, schedule="constant")
SAMPLES_PER_HEADER = 20    # reels and as many jigs per setting and seed


def train_reverse_base(seed):
    """Chapter 07's EncoderDecoder (H = 32) trained with teacher forcing for REVERSE_STEPS steps."""
    with seeded(seed):
        return train_reverse(EncoderDecoder(hidden=32), REVERSE_TRAIN_LENGTHS, steps=REVERSE_STEPS, seed=seed)


def fine_tune(base, final_p, seed):
    """A copy of `base` trained FINE_TUNE_STEPS more steps on fresh batches: final_p = 0 is teacher forcing,
    final_p > 0 scheduled sampling. The same batches for both, so the two differ only in the inputs."""
    with seeded(seed):
        return train_reverse_scheduled(copy.deepcopy(base), REVERSE_TRAIN_LENGTHS, final_p, steps=FINE_TUNE_STEPS,
                                       seed=seed + 100)


def train_decoding_lm(seed):
    """The decoding study's LSTM language model; returns (model, vocab, held-out bits per character)."""
    from course_lib.closing import tune_data
    vocab, train_ids, test_ids, _, _ = tune_data()
    with seeded(seed):
        model = char_lstm(len(vocab), hidden=LM_HIDDEN)
        train_language_model(model, train_ids, replace(LM_BUDGET, seed=seed), progress=False)
    return model, vocab, held_out_bits_per_char(model, test_ids)


def free_accuracy(model, seed=TEST_SEED):
    """Free-running (greedy) sequence accuracy on 1000 fresh reverse-task sequences of length STUDY_LENGTH."""
    return accuracy_by_length(model, (STUDY_LENGTH,), n=1000, seed=seed)[STUDY_LENGTH]


def reverse_numbers(base, control, scheduled):
    """The reverse-task numbers of one seed, on the test sequences: per-position errors (teacher-forced and
    free-running) and free-running sequence accuracy of the base model and of each fine-tuning, and the beam
    table of the base model."""
    numbers = {"accuracy": {}, "forced_error": {}, "free_error": {}}
    for name, model in (("base", base), ("teacher forcing", control), ("scheduled sampling", scheduled)):
        forced, free = error_by_position(model, STUDY_LENGTH)
        numbers["forced_error"][name], numbers["free_error"][name] = forced.tolist(), free.tolist()
        numbers["accuracy"][name] = free_accuracy(model)
    numbers["beam"] = {str(K): list(v) for K, v in beam_accuracy(base, STUDY_LENGTH, BEAM_SIZES).items()}
    return numbers


def decoding_numbers(model, vocab):
    """{setting: decoding_row} for every DECODING_SETTINGS entry."""
    return {name: decoding_row(model, vocab, strategy, SAMPLES_PER_HEADER) for name, strategy in DECODING_SETTINGS.items()}


def scheduled_sweep(base, seed):
    """{final_p: validation free-running accuracy} of scheduled sampling's fine-tunings from `base`."""
    return {str(p): free_accuracy(fine_tune(base, p, seed), VALIDATION_SEED) for p in SCHEDULED_P_GRID}


def study_numbers(seed, scheduled_p, base=None):
    """Everything the chapter measures for one seed (the benchmark stores it for SEEDS); scheduled_p: the
    final_p chosen on validation; base: the seed's train_reverse_base model, if already trained."""
    base = base or train_reverse_base(seed)
    numbers = reverse_numbers(base, fine_tune(base, 0.0, seed), fine_tune(base, scheduled_p, seed))
    model, vocab, bits = train_decoding_lm(seed)
    return {**numbers, "lm_bits": bits, "decoding": decoding_numbers(model, vocab)}


def load_study(path=STUDY_FILE):
    return json.loads(Path(path).read_text())


def spread(values, scale=1.0, digits=2):
    """'mean [min, max]' of per-seed values (one value: just the value)."""
    f = lambda v: f"{scale * v:.{digits}f}"
    if len(values) == 1:
        return f(values[0])
    return f"{f(sum(values) / len(values))} [{f(min(values))}, {f(max(values))}]"


def format_decoding_table(per_seed):
    """The decoding table over seeds: each column "mean [min, max]" over the seeds (one seed: its value),
    except the valid share, pooled over all seeds' different samples with its 95 % interval.
    per_seed: {seed: {"decoding": decoding_numbers(...)}}."""
    from course_lib.closing import binomial_interval
    runs = list(per_seed.values())
    columns = ("different", "valid tunes (95 % interval)", "bars per tune", "bars in meter", "distinct 4-grams",
               "repeated 8-grams", "bits/char")
    widths = (9, 27, 13, 13, 16, 16, 9)
    lines = [f"{'setting':<10}" + "".join(f" {c:>{w}}" for c, w in zip(columns, widths))]
    for name in runs[0]["decoding"]:
        rows = [run["decoding"][name] for run in runs]
        n = sum(r["n"] for r in rows)
        share = sum(r["valid"] * r["n"] for r in rows) / n
        lo, hi = binomial_interval(share, n)
        column = lambda key, scale=1.0, digits=2: spread([r[key] for r in rows], scale, digits)
        cells = (column("unique", 100, 0) + " %", f"{100 * share:.1f} % [{100 * lo:.0f}, {100 * hi:.0f}] of {n}",
                 column("bars", 1, 1), column("bars_in_meter"), column("distinct_4grams"), column("repeated_8grams"),
                 column("bits"))
        lines.append(f"{name:<10}" + "".join(f" {c:>{w}}" for c, w in zip(cells, widths)))
    return "\n".join(lines)


def format_beam_table(per_seed):
    """Sequence accuracy and mean log-probability of the output by beam size, "mean [min, max]" over seeds
    (one seed: its value), and the sequences each beam gets right where greedy does not and the other way
    round, summed over the seeds."""
    runs = list(per_seed.values())
    lines = [f"{'beam size':>9} {'sequence accuracy (%)':>24} {'log-probability of the output':>31} "
             f"{'right where greedy is wrong / the reverse':>42}"]
    for K in runs[0]["beam"]:
        wins, losses = sum(r["beam"][K][2] for r in runs), sum(r["beam"][K][3] for r in runs)
        lines.append(f"{K:>9} {spread([r['beam'][K][0] for r in runs], 100, 1):>24} "
                     f"{spread([r['beam'][K][1] for r in runs], 1, 3):>31} {f'{wins} / {losses}':>42}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------
# Counting the work of one generated token


def attention_flops_per_token(T, d_model, n_layers, vocab_size, cached):
    """Multiply-add work of the matrix products (counted as 2 FLOPs each, as torch's FlopCounterMode counts
    them; layer norms, softmax, biases and element-wise work left out) for the next token's logits after
    T - 1 tokens, as AttentionLM computes them. cached=False: window_logits re-reads all T positions: per block, T x the
    projections (4 d^2) and the MLP (8 d^2 with d_ff = 4d), the full T x T scores and their weighted sum
    (2 T^2 d), and the read-out at every position. cached=True: one position: the same per-position work once,
    scores against T keys (2 T d), one read-out."""
    per_position = 2 * 12 * d_model ** 2
    if cached:
        return n_layers * (per_position + 2 * 2 * T * d_model) + 2 * d_model * vocab_size
    return n_layers * (T * per_position + 2 * 2 * T * T * d_model) + T * 2 * d_model * vocab_size


def lstm_flops_per_token(embed, hidden, vocab_size):
    """The same count for one step of a CharLM with an LSTM: the four gates from [x, h] and the read-out."""
    return 2 * (embed + hidden) * 4 * hidden + 2 * hidden * vocab_size
