"""Checks of chapter 07's exercises: `sequence_accuracy` and `greedy_decode`."""
import numpy as np
import torch

from course_lib.grading.checks.core import Case, Exercise, Hint, as_numpy, telling_apart
from course_lib.seq2seq import greedy_decode, sequence_accuracy

V = 6



# Step functions for the decoding exercise: step(tokens (B,), state) -> (logits (B, V), state).
# Module level, so that the grader can name them to the learner's kernel.
def successor_step(tokens, state):
    """Always predicts the next symbol, (token + 1) mod V; the state is passed through untouched."""
    return 5.0 * torch.nn.functional.one_hot((tokens + 1) % V, V).float(), state


def rotating_state_step(tokens, state):
    """state: (B, V) scores that rotate every step; the fed-back token adds a bonus to its double."""
    state = torch.roll(state, shifts=1, dims=1)
    return state + 1.5 * torch.nn.functional.one_hot((2 * tokens) % V, V).float(), state


def tiny_gru_step(tokens, state):
    """A small fixed GRU (weights from seed 0): state (B, 8)."""
    g = torch.Generator().manual_seed(0)
    embed, w_ih, w_hh, w_out = (torch.randn(*shape, generator=g) for shape in ((V, 4), (4, 24), (8, 24), (8, V)))
    x = embed[tokens]
    r, z, n_in = (x @ w_ih).chunk(3, dim=1)
    hr, hz, hn = (state @ w_hh).chunk(3, dim=1)
    reset, update = torch.sigmoid(r + hr), torch.sigmoid(z + hz)
    state = (1 - update) * torch.tanh(n_in + reset * hn) + update * state
    return state @ w_out, state


def _decode_cases(rng, hidden):
    def tokens(B):
        return torch.from_numpy(rng.integers(0, V, size=B))

    def gru(B, n):  # a start where dropping the GRU's state changes the tokens, on every seed
        return telling_apart(lambda: (tiny_gru_step, torch.from_numpy(rng.normal(size=(B, 8))).float(), tokens(B), n),
                             greedy_decode, [_decode_state_dropped])
    if hidden:
        B, n = int(rng.integers(2, 6)), int(rng.integers(3, 12))
        return [Case("hidden: rotating state, several steps", (rotating_state_step, torch.from_numpy(rng.normal(size=(B, V))).float(), tokens(B), n), hidden=True),
                Case("hidden: tiny GRU, several steps", gru(B, n + 1), hidden=True)]
    return [Case("successor from [0, 3], max_len=4: [[1, 4], [2, 5], [3, 0], [4, 1]]", (successor_step, None, torch.tensor([0, 3]), 4)),
            Case("rotating state, B=3, max_len=5", (rotating_state_step, torch.from_numpy(rng.normal(size=(3, V))).float(), tokens(3), 5)),
            Case("tiny GRU, B=2, max_len=6", gru(2, 6)),
            Case("max_len=1", (tiny_gru_step, torch.zeros(1, 8), tokens(1), 1))]


def _accuracy_cases(rng, hidden):
    def batch(T, B, p_wrong, masked):
        """Random predictions, with columns that always tell the classic mistakes apart: 0 all right and
        unpadded, 1 and 3 wrong only under their padding, 2 one wrong real token among right ones."""
        target = rng.integers(1, 9, size=(T, B))
        pred = np.where(rng.random((T, B)) < p_wrong, (target % 8) + 1, target)
        lengths = rng.integers(1, T + 1, size=B) if masked else np.full(B, T)
        pred[:, :4] = target[:, :4]
        lengths[0] = T
        if masked:
            for column in (1, 3):
                lengths[column] = int(rng.integers(1, T))
                pred[lengths[column]:, column] = target[lengths[column]:, column] % 8 + 1
            beyond = np.arange(T)[:, None] >= lengths[None, :]
            pred[:, 4:][beyond[:, 4:]] = target[:, 4:][beyond[:, 4:]]  # the other columns err only where it counts
        row = int(rng.integers(0, lengths[2]))
        pred[row, 2] = target[row, 2] % 8 + 1
        mask = np.arange(T)[:, None] < lengths[None, :]
        return torch.from_numpy(pred), torch.from_numpy(target), torch.from_numpy(mask)
    def telling(T, B, p_wrong, masked):  # every classic mistake changes the accuracy, on every seed
        mistakes = [_token_accuracy, _sequences_over_time] + ([_mask_ignored, _mask_inverted] if masked else [])
        return telling_apart(lambda: batch(T, B, p_wrong, masked), sequence_accuracy, mistakes)
    if hidden:
        T, B = int(rng.integers(3, 12)), int(rng.integers(4, 40))
        return [Case("hidden: random batch with padding", telling(T, B, 0.1, True), hidden=True),
                Case("hidden: random batch, no padding", telling(T, B, 0.05, False), hidden=True)]
    pred = torch.tensor([[1, 2], [3, 4], [5, 6]])
    return [Case("all correct", (pred, pred.clone(), torch.ones(3, 2, dtype=torch.bool))),
            Case("one wrong token spoils its whole sequence", (pred, torch.tensor([[1, 2], [3, 9], [5, 6]]), torch.ones(3, 2, dtype=torch.bool))),
            Case("a wrong token under padding (mask False) does not count",
                 (pred, torch.tensor([[1, 2], [3, 4], [5, 9]]), torch.tensor([[True, True], [True, True], [True, False]]))),
            Case("random (T, B) = (7, 20) with padding", telling(7, 20, 0.1, True))]


def _decode_without_feedback(step, state, start, max_len):
    out = []
    for _ in range(max_len):
        logits, state = step(start, state)
        out.append(logits.argmax(-1))
    return torch.stack(out)


def _decode_state_dropped(step, state, start, max_len):
    tokens, out = start, []
    for _ in range(max_len):
        logits, _ = step(tokens, state)
        tokens = logits.argmax(-1)
        out.append(tokens)
    return torch.stack(out)


def _token_accuracy(p, t, m):
    return float(((p == t) & m).sum() / m.sum())


def _mask_ignored(p, t, m):
    return sequence_accuracy(p, t, None)


def _mask_inverted(p, t, m):
    return sequence_accuracy(p, t, ~torch.as_tensor(m))


def _sequences_over_time(p, t, m):
    """All over the batch axis: one 'sequence' per time step."""
    return float(((torch.as_tensor(p) == torch.as_tensor(t)) | ~torch.as_tensor(m)).all(1).float().mean())


def _decode_with_start(step, state, start, max_len):
    return torch.cat([start[None], greedy_decode(step, state, start, max_len - 1)]) if max_len > 1 else start[None]


EXERCISES = [
    Exercise(
        name="sequence_accuracy", reference=sequence_accuracy, points=1, make_cases=_accuracy_cases, select=as_numpy,
        hints=[
            Hint(_token_accuracy, "that is token accuracy; a sequence counts only if *every* real position is right"),
            Hint(_mask_ignored, "positions where mask is False are padding: ignore them"),
            Hint(_mask_inverted, "mask True marks a real position: check those, skip where it is False"),
            Hint(_sequences_over_time,
                 "a sequence is a column (time runs down axis 0): use all(dim=0), then the mean over the batch"),
        ],
    ),
    Exercise(
        name="greedy_decode", reference=greedy_decode, points=2, make_cases=_decode_cases, select=as_numpy,
        hints=[
            Hint(_decode_without_feedback, "feed each step's predicted token back in as the next step's input"),
            Hint(_decode_with_start, "the output holds the max_len generated tokens, not the start token"),
            Hint(_decode_state_dropped, "pass the state each step returns into the next call: the model's memory is its state"),
            Hint(lambda step, state, start, n: greedy_decode(step, state, start, n).T, "the output is time-first, (max_len, B), not (B, max_len)"),
        ],
    ),
]
