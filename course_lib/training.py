"""Torch training loops for the course's synthetic tasks: fixed seeds, budgets counted in steps, CPU.

A sequence **encoder** is any module mapping x: (T, B, D) to states (T, B, H) (for torch's RNN and
LSTM, the first output). Task heads read the last state.
"""
from dataclasses import dataclass

import numpy as np
import torch

from course_lib.reproducibility import seeded
from course_lib.tasks import adding_problem, recall_task


class LastStateHead(torch.nn.Module):
    """Many-to-one: an encoder, then a linear read-out of the last state. x: (T, B, D) -> (B, n_out)."""

    def __init__(self, encoder, hidden, n_out):
        super().__init__()
        self.encoder, self.readout = encoder, torch.nn.Linear(hidden, n_out)

    def forward(self, x):
        return self.readout(encoder_states(self.encoder(x))[-1])


def encoder_states(output):
    """The states (T, B, H) an encoder returned: torch's RNN, LSTM and GRU return (states, last state)."""
    return output[0] if isinstance(output, tuple) else output


def rnn_encoder(D, H):
    """A vanilla tanh RNN (torch.nn.RNN, shown equal to the course's NumPy cell in chapter 02), torch's
    default initialisation: every weight uniform in (-1/sqrt(H), 1/sqrt(H))."""
    return torch.nn.RNN(D, H, nonlinearity="tanh")


def orthogonal_rnn_encoder(D, H, gain=1.0):
    """The same RNN with W_hh drawn orthogonal and scaled by `gain` (chapter 04's advice: every singular
    value of W_hh equals `gain`, so a signal neither explodes nor vanishes through the linear part)."""
    rnn = torch.nn.RNN(D, H, nonlinearity="tanh")
    with torch.no_grad():
        torch.nn.init.orthogonal_(rnn.weight_hh_l0, gain=gain)
    return rnn


def lstm_encoder(D, H, forget_bias=0.0):
    """torch.nn.LSTM (shown equal to the course's NumPy LSTM in chapter 05) with the forget-gate bias set to
    `forget_bias` (torch's default is 0 plus a small random part; sigmoid(1) = 0.73, sigmoid(5) = 0.993 kept
    per step): a high bias starts the cell state out remembering."""
    lstm = torch.nn.LSTM(D, H)
    with torch.no_grad():
        lstm.bias_ih_l0[H:2 * H].fill_(forget_bias)  # gate blocks i, f, g, o: the second is the forget gate
        lstm.bias_hh_l0[H:2 * H].zero_()
    return lstm


def gru_encoder(D, H, update_bias=0.0):
    """torch.nn.GRU: two gates (reset r, update z) and no separate cell state, three weight blocks
    instead of four. h_t = (1 - z) * n + z * h_{t-1}, so a high z-bias also starts out remembering."""
    gru = torch.nn.GRU(D, H)
    with torch.no_grad():
        gru.bias_ih_l0[H:2 * H].fill_(update_bias)  # gate blocks r, z, n: the second is the update gate
        gru.bias_hh_l0[H:2 * H].zero_()
    return gru


@dataclass(frozen=True)
class RecallBudget:
    """The fixed training budget every model gets on the recall task (change it, rerun every column).
    `lr` is the default learning rate; tuned columns choose theirs on validation (course_lib.memory)."""
    steps: int = 300          # Adam updates
    batch: int = 32           # sequences per update
    hidden: int = 32          # state size H
    lr: float = 3e-3          # Adam learning rate
    max_norm: float = 1.0     # gradient clipping (chapter 04)
    n_symbols: int = 8        # chance = 1 / n_symbols
    eval_size: int = 1000     # fresh sequences scored after training
    seed: int = 0


def train_recall(make_encoder, lag, budget=RecallBudget(), return_model=False):
    """Train encoder + read-out on the recall task at one lag; returns accuracy on fresh sequences
    (and the trained model, with return_model=True). budget.seed sets the initialisation, the training
    sequences and the scored sequences, so two seeds never share a draw of the task."""
    with seeded(budget.seed):  # initialisation from the seed, the caller's random state untouched
        rng = np.random.default_rng([budget.seed, lag])
        model = LastStateHead(make_encoder(budget.n_symbols + 1, budget.hidden), budget.hidden, budget.n_symbols)
        opt = torch.optim.Adam(model.parameters(), lr=budget.lr)
        for _ in range(budget.steps):
            x, y = recall_task(lag, budget.batch, rng, budget.n_symbols)
            loss = torch.nn.functional.cross_entropy(model(torch.from_numpy(x)), torch.from_numpy(y))
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), budget.max_norm)
            opt.step()
        with torch.no_grad():
            x, y = recall_task(lag, budget.eval_size, rng, budget.n_symbols)
            accuracy = float((model(torch.from_numpy(x)).argmax(-1).numpy() == y).mean())
        return (accuracy, model) if return_model else accuracy


def train_adding(radius, lr, clip, steps=300, T=40, H=32, batch=32, seed=0):
    """A tanh RNN on the adding problem with plain SGD, W_hh scaled to spectral radius `radius`.

    clip: max global gradient norm, or None for no clipping.
    returns {"losses": (steps,) training MSE, "grad_norms": (steps,) global norm before clipping}.
    """
    with seeded(seed):
        rng = np.random.default_rng(seed)
        model = LastStateHead(rnn_encoder(2, H), H, 1)
        with torch.no_grad():
            W = model.encoder.weight_hh_l0
            W.mul_(radius / torch.linalg.eigvals(W).abs().max())
        opt = torch.optim.SGD(model.parameters(), lr=lr)
        losses, norms = [], []
        for _ in range(steps):
            x, y = adding_problem(T, batch, rng)
            loss = ((model(torch.from_numpy(x)).squeeze(-1) - torch.from_numpy(y)) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            norm = torch.nn.utils.clip_grad_norm_(model.parameters(), clip if clip else float("inf"))
            opt.step()
            losses.append(loss.item())
            norms.append(norm.item())
        return {"losses": np.array(losses), "grad_norms": np.array(norms)}
