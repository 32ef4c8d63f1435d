"""Many-to-one on real tunes (chapter 06): read a tune's notes, say what kind of tune it is.

The label comes from the tune's `R:` field; the model sees only the body (the notes), so the fields
that give the answer away (`R:`, `M:`, `L:`) are gone. Two readers are compared: an LSTM trained for
the task from scratch, and a linear read-out of the states of chapter 06's language model (which
never saw a label).
"""
import numpy as np
import torch

from course_lib.positions import sinusoidal_positions
from course_lib.sequences import pad_batch
from course_lib.transformer import AttentionBlock, MLPBlock, init_block_params

KINDS = ("reel", "jig", "hornpipe", "slipjig")


def labelled(tunes, kinds=KINDS):
    """The tunes whose type is one of `kinds`, and their labels (index into `kinds`) as an int64 tensor."""
    chosen = [t for t in tunes if t.kind in kinds]
    if not chosen:
        raise ValueError(f"none of the tunes has a type among {kinds}.")
    return chosen, torch.tensor([kinds.index(t.kind) for t in chosen])


def notes_batch(tunes, vocab, length=128):
    """The first `length` characters of each tune's body (notes only, no header), padded.
    returns x: (T, B) int64 ids and mask: (T, B) bool, True = real character."""
    x, mask = pad_batch([vocab.encode(t.body[:length]) for t in tunes])
    return torch.from_numpy(x), torch.from_numpy(mask)


def masked_mean(states, mask):
    """Average of states (T, B, H) over the real positions of mask (T, B) -> (B, H)."""
    weights = mask.to(states.dtype)[..., None]
    return (states * weights).sum(0) / weights.sum(0).clamp(min=1)


class TuneTypeClassifier(torch.nn.Module):
    """Many-to-one: embedding -> a sequence reader -> mean of its states over the real characters -> linear.
    x: (T, B) ids, mask: (T, B) -> logits (B, n_kinds).

    reader: "lstm" (chapter 06), "rnn" (a vanilla tanh RNN) or "attention" (one causal block of chapter
    10: sinusoidal positions for up to max_len characters, attention_block, mlp_block). Every initial weight
    comes from torch's global generator: seed it first (closing.tune_type_accuracy does, with `seeded`)."""

    def __init__(self, vocab_size, n_kinds=len(KINDS), hidden=64, embed=16, reader="lstm", max_len=512):
        super().__init__()
        self.reader_kind, self.max_len = reader, max_len
        if reader == "attention":
            self.embed = torch.nn.Embedding(vocab_size, hidden)
            # generator=None: drawn from torch's global generator, as the embedding's and the LSTM's weights are
            attention, mlp = init_block_params(hidden, generator=None)
            self.attention, self.mlp = AttentionBlock(attention, n_heads=4), MLPBlock(mlp)
            self.register_buffer("positions", sinusoidal_positions(max_len, hidden), persistent=False)
        elif reader in ("lstm", "rnn"):
            self.embed = torch.nn.Embedding(vocab_size, embed)
            self.recurrent = (torch.nn.LSTM if reader == "lstm" else torch.nn.RNN)(embed, hidden)
        else:
            raise ValueError(f"reader must be 'lstm', 'rnn' or 'attention', got {reader!r}.")
        self.readout = torch.nn.Linear(hidden, n_kinds)

    def states(self, x):
        if self.reader_kind == "attention":
            if len(x) > self.max_len:
                raise ValueError(f"the attention reader has positions for max_len = {self.max_len} characters, got T = {len(x)}.")
            h = self.embed(x) + self.positions[:len(x), None, :]
            return self.mlp(self.attention(h))
        return self.recurrent(self.embed(x))[0]

    def forward(self, x, mask):
        return self.readout(masked_mean(self.states(x), mask))


def tune_type_lstm(vocab_size, n_kinds=len(KINDS), hidden=64, embed=16):
    """Chapter 06's classifier: TuneTypeClassifier with an LSTM reader."""
    return TuneTypeClassifier(vocab_size, n_kinds, hidden, embed, reader="lstm")


def train_classifier(model, inputs, labels, batch_axis=1, steps=200, batch=64, lr=3e-3, seed=0):
    """Adam on random minibatches. inputs: tuple of tensors with the tunes along `batch_axis` (1 for
    time-first (T, B) sequences, 0 for (B, F) features); labels: (B,) int64. returns losses (nats)."""
    rng = np.random.default_rng(seed)  # which tunes each step reads; nothing global is reseeded
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        idx = torch.from_numpy(rng.integers(0, len(labels), size=batch))
        loss = torch.nn.functional.cross_entropy(model(*(a.index_select(batch_axis, idx) for a in inputs)), labels[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    model.eval()
    return np.array(losses)


@torch.no_grad()
def language_model_features(lm, x, mask):
    """A language model's states averaged over each tune's real characters: (B, H) features."""
    return masked_mean(lm.states(x), mask)


class LinearProbe(torch.nn.Module):
    """A linear classifier on fixed features, standardised with the training features' mean and std."""

    def __init__(self, train_features, n_kinds=len(KINDS)):
        super().__init__()
        self.register_buffer("mean", train_features.mean(0))
        self.register_buffer("std", train_features.std(0) + 1e-6)
        self.linear = torch.nn.Linear(train_features.shape[1], n_kinds)

    def forward(self, features):
        return self.linear((features - self.mean) / self.std)


@torch.no_grad()
def predict(model, *inputs):
    """Most likely class per tune, (B,) int64."""
    return model(*inputs).argmax(-1)


def confusion_matrix(pred, labels, n_classes=len(KINDS)):
    """counts[i, j] = number of tunes of true class i predicted as class j; (n_classes, n_classes)."""
    counts = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(counts, (np.asarray(labels), np.asarray(pred)), 1)
    return counts


def majority_accuracy(train_labels, test_labels):
    """Accuracy on the test tunes of always answering the most common training class."""
    majority = torch.bincount(train_labels).argmax()
    return float((test_labels == majority).float().mean())
