"""Chapter 01 — sequences as arrays: one-hot encoding, next-step pairs, padding and masks.

Shapes are time-first: a batch of B sequences of length T is (T, B); with features, (T, B, D).
"""
import numpy as np

from course_lib.validation import as_array, as_index_array, require_positive_int


def one_hot(indices, vocab_size):
    """One-hot encode integer tokens.

    indices: (...) integers in [0, vocab_size), any shape, e.g. (T,) or (T, B).
    returns: (..., V) float64 with a single 1.0 per position, V = vocab_size.
    """
    vocab_size = require_positive_int("vocab_size", vocab_size)
    idx = as_index_array("indices", indices, vocab_size)
    return np.eye(vocab_size, dtype=np.float64)[idx]


def next_step_pairs(sequence):
    """Inputs and targets for next-step prediction: the target at step t is the input at step t + 1.

    sequence: (T, ...) time-first array of tokens or features, T >= 2.
    returns (inputs, targets): each (T - 1, ...); inputs = sequence[:-1], targets = sequence[1:].
    """
    seq = as_array("sequence", sequence)
    if seq.ndim == 0 or seq.shape[0] < 2:
        raise ValueError(f"sequence must have at least 2 time steps along axis 0, got shape {seq.shape}.")
    return seq[:-1], seq[1:]


def pad_batch(sequences, pad_value=0):
    """Stack sequences of different lengths into one time-first array, and say which entries are real.

    sequences: list of B one-dimensional sequences (lists or arrays) of lengths L_1..L_B.
    pad_value: written where a sequence has ended.
    returns (padded, mask): padded (T_max, B) with the sequences' common dtype, T_max = max L_b;
            mask (T_max, B) bool, True where the entry is real and False where it is padding.
    """
    if not isinstance(sequences, (list, tuple)):
        raise TypeError(f"sequences must be a list of sequences, got {type(sequences).__name__}.")
    if len(sequences) == 0:
        raise ValueError("sequences is empty: a batch needs at least one sequence.")
    arrays = []
    for b, seq in enumerate(sequences):
        if np.isscalar(seq):
            raise ValueError(f"sequences[{b}] must be a sequence (a list or 1-D array), got the scalar {seq!r}.")
        arrays.append(as_array(f"sequences[{b}]", seq, ndim=1, meaning="(L,): one token per time step"))
    # An empty list converts to float64; it must not turn a batch of integer tokens into floats.
    dtype = np.result_type(*[a for a in arrays if a.size], np.asarray(pad_value))
    t_max = max(len(a) for a in arrays)
    padded = np.full((t_max, len(arrays)), pad_value, dtype=dtype)
    mask = np.zeros((t_max, len(arrays)), dtype=bool)
    for b, a in enumerate(arrays):
        padded[: len(a), b] = a
        mask[: len(a), b] = True
    return padded, mask


def padding_fraction(lengths, batch_size, sort_by_length=False):
    """Share of a padded dataset's entries that are padding, when consecutive sequences form batches.

    lengths: (N,) sequence lengths, in dataset order. sort_by_length=True batches similar lengths
    together (bucketing), which is how the course's training loops keep padding small.
    """
    lengths = np.asarray(lengths)
    if sort_by_length:
        lengths = np.sort(lengths)
    batches = [lengths[i:i + batch_size] for i in range(0, len(lengths), batch_size)]
    padded = sum(len(batch) * batch.max() for batch in batches)
    return 1.0 - lengths.sum() / padded


def random_windows(ids, T, B, rng):
    """B random windows of T + 1 consecutive tokens from a 1-D token stream, as next-step pairs.

    ids: (N,) integer tokens; rng: numpy Generator. returns (inputs, targets), each (T, B).
    """
    ids = as_array("ids", ids, ndim=1, meaning="(N,)")
    if len(ids) < T + 1:
        raise ValueError(f"ids has {len(ids)} tokens, fewer than T + 1 = {T + 1}.")
    starts = rng.integers(0, len(ids) - T, size=B)
    windows = ids[starts[None, :] + np.arange(T + 1)[:, None]]  # (T + 1, B)
    return windows[:-1], windows[1:]
