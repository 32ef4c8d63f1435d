"""Count-based next-character models: the baselines every sequence model in the course must beat.

A model with context length c predicts character t from the c characters before it, by counting
how often each character followed that context in the training text (add-alpha smoothing). c = 0 is
the unigram model, c = 1 the bigram model.
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
