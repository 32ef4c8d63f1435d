"""Chapter 06's own-model exercises: the reference train_step equals a hand-written loop, the learner's
model class is checked against char_lstm with the same weights, and each classic mistake gets its hint."""
import numpy as np
import pytest
import torch

from course_lib.grading.checks import EXERCISES, run_checks
from course_lib.grading.checks.ch06_applications import check_loss_fell, load_tune_model_weights
from course_lib.language_model import char_lstm, LMBudget, train_language_model, train_step

@pytest.fixture(autouse=True)
def one_thread():
    """These models are tiny: at one thread a step takes milliseconds, at two on a busy machine far longer."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_train_step_matches_a_hand_written_step_with_torch_tools():
    torch.manual_seed(0)
    a, b = char_lstm(7, hidden=8, embed=4).double(), char_lstm(7, hidden=8, embed=4).double()
    b.load_state_dict(a.state_dict())
    opt_a = torch.optim.SGD(a.parameters(), lr=0.5)  # b is stepped by hand below
    ids = torch.randint(0, 7, (6, 3))
    x, y = ids[:-1], ids[1:]
    loss = train_step(a, opt_a, x, y, max_norm=0.05)
    logits, _ = b(x)
    expected = torch.nn.functional.cross_entropy(logits.reshape(-1, 7), y.reshape(-1))
    expected.backward()
    norm = torch.sqrt(sum((p.grad ** 2).sum() for p in b.parameters()))
    assert norm > 0.05  # the clip is active in this test
    with torch.no_grad():
        for p in b.parameters():
            p -= 0.5 * p.grad * (0.05 / (norm + 1e-6))  # torch adds 1e-6 to the norm it divides by
    assert loss == pytest.approx(expected.item(), abs=1e-12) and isinstance(loss, float)
    for p, q in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(p, q, atol=1e-10, rtol=0)


def test_train_language_model_is_bit_for_bit_the_loop_it_had_before_it_called_train_step():
    """The course's stored results were trained by the loop written out below (forward, cross-entropy,
    zero_grad, backward, clip, step); train_language_model now calls train_step and must train identically."""
    from course_lib.language_model import learning_rate
    from course_lib.reproducibility import seed_everything
    from course_lib.sequences import random_windows
    ids = np.random.default_rng(0).integers(0, 9, size=2000)
    budget = LMBudget(steps=20, batch=4, length=16, lr=3e-3, clip=0.5)
    torch.manual_seed(1)
    model, before = char_lstm(9, hidden=16, embed=4), char_lstm(9, hidden=16, embed=4)
    before.load_state_dict(model.state_dict())
    bits = train_language_model(model, ids, budget, progress=False)["bits"]
    rng = seed_everything(budget.seed, threads=torch.get_num_threads())
    opt, expected = torch.optim.Adam(before.parameters(), lr=budget.lr), []
    for step in range(budget.steps):
        for group in opt.param_groups:
            group["lr"] = learning_rate(budget, step)
        x, y = (torch.from_numpy(a) for a in random_windows(ids, budget.length, budget.batch, rng))
        logits, _ = before(x, None)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(before.parameters(), budget.clip)
        opt.step()
        expected.append(loss.item() / np.log(2))
    assert np.array_equal(bits, np.array(expected)) and bits[-5:].mean() < bits[:5].mean()
    for p, q in zip(model.parameters(), before.parameters()):
        assert torch.equal(p, q)


def test_weights_load_by_part_whatever_the_names_and_a_wrong_size_is_named():
    model = load_tune_model_weights(char_lstm(7, hidden=5, embed=3), 7, 5, 3, seed=1)
    assert model.embed.weight.dtype == torch.float32  # the dtype the learner's model trains in
    with pytest.raises(ValueError, match="nn.LSTM's weight_ih_l0 has shape"):
        load_tune_model_weights(char_lstm(7, hidden=4, embed=3), 7, 5, 3, seed=1)
    with pytest.raises(ValueError, match="exactly one torch.nn.Linear"):
        load_tune_model_weights(torch.nn.Sequential(torch.nn.Embedding(7, 3), torch.nn.LSTM(3, 5)), 7, 5, 3, seed=1)


def test_log_probabilities_count_as_logits():
    class LogSoftmaxed(torch.nn.Module):
        def __init__(self, vocab_size, hidden, embed):
            super().__init__()
            self.lm = char_lstm(vocab_size, hidden, embed)

        def forward(self, x, state=None):
            logits, state = self.lm(x, state)
            return torch.log_softmax(logits, -1), state
    LogSoftmaxed.__name__ = "TuneLSTM"
    for hidden in (False, True):
        report = run_checks(LogSoftmaxed, EXERCISES["TuneLSTM"], hidden=hidden, seed=0)
        assert report.passed, report.text()


def test_a_model_that_builds_its_own_float32_zero_state_passes():
    class OwnZeros(torch.nn.Module):  # a common tutorial pattern: state=None becomes explicit zeros
        def __init__(self, vocab_size, hidden, embed):
            super().__init__()
            self.lm, self.hidden = char_lstm(vocab_size, hidden, embed), hidden

        def forward(self, x, state=None):
            if state is None:
                state = (torch.zeros(1, x.shape[1], self.hidden), torch.zeros(1, x.shape[1], self.hidden))
            return self.lm(x, state)
    OwnZeros.__name__ = "TuneLSTM"
    for hidden in (False, True):
        report = run_checks(OwnZeros, EXERCISES["TuneLSTM"], hidden=hidden, seed=0)
        assert report.passed, report.text()


def test_the_loss_check_says_what_happened(capsys):
    falling = np.r_[np.full(20, 6.0), np.linspace(6, 3.5, 60)]
    assert check_loss_fell(falling, held_out=3.2, bigram=3.5)
    assert not check_loss_fell(np.full(80, 6.0), held_out=3.2, bigram=3.5)
    # targets equal to the inputs: the training loss collapses, the held-out score shows nothing was learned
    assert not check_loss_fell(np.r_[np.full(20, 4.0), np.linspace(4, 0.05, 60)], held_out=6.5, bigram=3.5)
    out = capsys.readouterr().out
    assert "✓ the training loss fell" in out and "✗ the training loss did not fall" in out
    assert "✓ held-out tunes: 3.20" in out and "✗ held-out tunes: 6.50 bits/char, not below" in out


def test_the_checks_optimizer_is_torchs_plain_sgd():
    from course_lib.grading.checks.ch06_applications import GradientDescent
    torch.manual_seed(0)
    a, b = char_lstm(7, hidden=8, embed=4).double(), char_lstm(7, hidden=8, embed=4).double()
    b.load_state_dict(a.state_dict())
    ids = torch.randint(0, 7, (6, 3))
    for model, optimizer in ((a, GradientDescent(a.parameters(), 0.3)), (b, torch.optim.SGD(b.parameters(), lr=0.3))):
        for _ in range(2):
            train_step(model, optimizer, ids[:-1], ids[1:], max_norm=0.05)
    for p, q in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(p, q, atol=1e-12, rtol=0)
