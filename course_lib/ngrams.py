"""Count-based next-character models: the baselines every sequence model in the course must beat.

A model with context length c predicts character t from the c characters before it, by counting
how often each character followed that context in the training text. c = 0 is the unigram model,
c = 1 the bigram model. Two ways to turn counts into probabilities:

- add-alpha smoothing (`ngram_bits_per_char`): every count gets alpha added; a context never seen in
  training gets a uniform guess. Simple, and badly wrong for long contexts, which are mostly unseen.
- interpolated Kneser-Ney (`kneser_ney_bits_per_char`): each context mixes its discounted counts with the
  next shorter context's estimate, down to the uniform one; an unseen context uses the shorter one.
"""
import math
from collections import Counter, defaultdict

BOS = "\x02"  # marks "before the start of the text", so the first characters have a context too


def _contexts(text, c):
    padded = BOS * c + text
    for t, ch in enumerate(text):
        yield padded[t:t + c], ch


def fit_ngram(texts, c):
    """Counts {context: Counter(next character)} over the training texts."""
    counts = defaultdict(Counter)
    for text in texts:
        for ctx, ch in _contexts(text, c):
            counts[ctx][ch] += 1
    return counts


def ngram_bits_per_char(train_texts, test_texts, c, alpha=0.1):
    """Average bits per character of `test_texts` under a context-length-c model fit on `train_texts`.

    returns (bits_per_char, unseen): unseen is the share of test positions whose context never
    occurred in training (the model can only fall back to the smoothing there).
    """
    if c < 0:
        raise ValueError(f"c must be a non-negative context length, got {c}.")
    counts = fit_ngram(train_texts, c)
    vocab = len(set("".join(train_texts)) | set("".join(test_texts)))
    totals = {ctx: sum(counter.values()) for ctx, counter in counts.items()}
    bits, n, unseen = 0.0, 0, 0
    for text in test_texts:
        for ctx, ch in _contexts(text, c):
            counter = counts.get(ctx)
            seen = counter[ch] if counter is not None else 0
            total = totals.get(ctx, 0)
            unseen += counter is None
            bits -= math.log2((seen + alpha) / (total + alpha * vocab))
            n += 1
    if n == 0:
        raise ValueError("test_texts is empty: there is nothing to score.")
    return bits / n, unseen / n


def _discounts(counters):
    """Chen and Goodman's three discounts (D1, D2, D3+) for pairs seen once, twice, three or more times,
    estimated from the counts of counts n1..n4 of the (context, char) pairs: Y = n1 / (n1 + 2 n2),
    D_k = k - (k + 1) Y n_{k+1} / n_k, kept within [0, k]."""
    n = Counter(k for counter in counters for k in counter.values() if k <= 4)
    if not all(n[k] for k in (1, 2, 3, 4)):
        return (0.5, 1.0, 1.5)  # too little data to estimate: moderate defaults
    y = n[1] / (n[1] + 2 * n[2])
    # clamped to [0, k]: with few distinct pairs (the short contexts) the estimate can leave that range
    return tuple(min(max(k - (k + 1) * y * n[k + 1] / n[k], 0.0), float(k)) for k in (1, 2, 3))


def fit_kneser_ney(texts, c):
    """Interpolated Kneser-Ney tables for context lengths 0..c, as a list indexed by context length n.

    Order c keeps the real counts {context: Counter(next char)}; every lower order n < c keeps
    *continuation* counts: for context u and char w, the number of distinct characters a such that
    a + u is followed by w somewhere in training. Each entry is (counts, totals, backoff, discounts) where
    backoff[u] = (D1 * #chars seen once after u + D2 * #twice + D3 * #three or more times) / totals[u].
    """
    if c < 0:
        raise ValueError(f"c must be a non-negative context length, got {c}.")
    levels = [None] * (c + 1)
    counts = fit_ngram(texts, c)
    for n in range(c, -1, -1):
        discounts = _discounts(counts.values())
        totals = {ctx: sum(counter.values()) for ctx, counter in counts.items()}
        backoff = {ctx: sum(discounts[min(k, 3) - 1] for k in counter.values()) / totals[ctx]
                   for ctx, counter in counts.items()}
        levels[n] = (counts, totals, backoff, discounts)
        lower = defaultdict(Counter)
        for ctx, counter in counts.items():
            for ch in counter:
                lower[ctx[1:]][ch] += 1  # one more distinct character in front of ctx[1:] + ch
        counts = lower
    return levels


def kneser_ney_bits_per_char(train_texts, test_texts, c):
    """Average bits per character of `test_texts` under interpolated Kneser-Ney with context length c.

    Unlike add-alpha smoothing, a context never seen in training falls back to the next shorter context
    (and from context length 0 to the uniform distribution over the characters), and every seen context
    keeps a little probability for its back-off (modified Kneser-Ney: three discounts per order, from
    `_discounts`).
    returns (bits_per_char, unseen) like `ngram_bits_per_char`.
    """
    levels = fit_kneser_ney(train_texts, c)
    vocab = len(set("".join(train_texts)) | set("".join(test_texts)))
    bits, n_chars, unseen = 0.0, 0, 0
    for text in test_texts:
        for ctx, ch in _contexts(text, c):
            unseen += ctx not in levels[c][0]
            bits -= math.log2(kneser_ney_probability(levels, ctx, ch, vocab))
            n_chars += 1
    if n_chars == 0:
        raise ValueError("test_texts is empty: there is nothing to score.")
    return bits / n_chars, unseen / n_chars


def kneser_ney_probability(levels, context, char, vocab_size):
    """p(char | context) under the tables of `fit_kneser_ney`; context: the last c characters (BOS-padded).

    Built up from the uniform 1 / vocab_size through every context length n = 0..c: a seen context u gives
    (count(u, char) - D) / total(u) + backoff(u) * p_shorter, an unseen one passes p_shorter on unchanged.
    """
    p = 1.0 / vocab_size
    for n, (counts, totals, backoff, discounts) in enumerate(levels):
        u = context[len(context) - n:]
        if u not in counts:
            continue
        k = counts[u][char]
        p = (k - discounts[min(k, 3) - 1] if k else 0.0) / totals[u] + backoff[u] * p
    return p
