"""Tunes as music (chapter 06): a strict "is this a valid tune?" test and audio synthesized with NumPy.

music21 parses ABC text into notes; it is imported only here, on first use (about 0.5 s), and used
only on the few tunes a notebook plays or tests (about 0.03 s per tune). Audio is made with NumPy, no
external program: each note a plucked-string tone with short fades, so notes join without clicks.
"""
import contextlib
import io
import math
import re
import warnings
from dataclasses import dataclass

import numpy as np

MIN_BARS = 8
MIN_FULL_SHARE = 0.75
SAMPLE_RATE = 8000
SECONDS_PER_QUARTER = 0.3  # an eighth note lasts 0.15 s: a session tempo for reels and jigs


def _music21():
    import music21  # slow import, deferred to the first tune that needs it
    return music21


def parse_abc_tune(text):
    """A music21 Score of one ABC tune. Raises ValueError (one sentence) when music21 cannot parse it."""
    music21 = _music21()
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            return music21.converter.parse(text, format="abc")
    except Exception as exc:  # music21 raises many kinds; a learner needs one sentence
        raise ValueError(f"music21 cannot parse this ABC text ({type(exc).__name__}: {str(exc)[:80]}).") from None


@dataclass
class BarReport:
    """What `check_tune` found. full_share: share of inner bars whose length equals the meter's bar."""
    has_meter: bool
    has_key: bool
    parsed: bool
    bars: int
    full_share: float
    valid: bool
    why: str


def check_tune(text, min_bars=MIN_BARS, min_full_share=MIN_FULL_SHARE):
    """The course's strict test of a tune, stated in full:

    1. the header has a meter line (`M:`) and a key line (`K:`), and music21 finds the meter;
    2. music21 parses the text without an error;
    3. the tune has at least `min_bars` bars;
    4. at least `min_full_share` of its inner bars (first and last left out: a pick-up and its
       complement are legitimately short) last exactly one bar of the meter.
    """
    has_meter = re.search(r"^M:\s*\S", text, flags=re.M) is not None
    has_key = re.search(r"^K:\s*\S", text, flags=re.M) is not None
    if not (has_meter and has_key):
        return BarReport(has_meter, has_key, False, 0, 0.0, False, "no meter (M:) or key (K:) line")
    try:
        score = parse_abc_tune(text)
    except ValueError as exc:
        return BarReport(has_meter, has_key, False, 0, 0.0, False, str(exc))
    parts = list(score.parts) if hasattr(score, "parts") and len(score.parts) else [score]
    measures = list(parts[0].getElementsByClass("Measure"))
    meters = list(parts[0].recurse().getElementsByClass("TimeSignature"))
    if not meters:
        return BarReport(has_meter, has_key, True, len(measures), 0.0, False, "music21 found no meter")
    bar = meters[0].barDuration.quarterLength
    inner = measures[1:-1]
    full = sum(math.isclose(m.duration.quarterLength, bar) for m in inner) / len(inner) if inner else 0.0
    if len(measures) < min_bars:
        return BarReport(has_meter, has_key, True, len(measures), full, False, f"only {len(measures)} bars")
    if full < min_full_share:
        return BarReport(has_meter, has_key, True, len(measures), full, False, f"only {full:.0%} of the bars are full")
    return BarReport(has_meter, has_key, True, len(measures), full, True, "")


def valid_share(texts, **kwargs):
    """Share of `texts` that pass `check_tune`."""
    if not texts:
        raise ValueError("texts is empty: there is nothing to check.")
    return sum(check_tune(t, **kwargs).valid for t in texts) / len(texts)


def tune_notes(text, max_seconds=6.0):
    """(frequency in Hz or 0.0 for a rest, seconds) for each note of a tune, up to `max_seconds`.
    A chord plays its lowest note; grace notes (no duration) are skipped."""
    score = parse_abc_tune(text)
    notes, total = [], 0.0
    for item in score.flatten().notesAndRests:
        seconds = float(item.duration.quarterLength) * SECONDS_PER_QUARTER
        if seconds <= 0:
            continue
        if item.isRest:
            freq = 0.0
        else:
            pitch = item.pitches[0] if item.isChord else item.pitch
            freq = float(pitch.frequency)
        notes.append((freq, seconds))
        total += seconds
        if total >= max_seconds:
            break
    return notes


def synthesize(notes, rate=SAMPLE_RATE, fade=0.005):
    """A waveform (float32, in [-1, 1]) playing `notes` [(Hz, seconds), ...] one after another.

    Each note: a few harmonics under an exponential decay (a plucked string), faded in and out over
    `fade` seconds so that the waveform is continuous at every note boundary (no clicks).
    """
    pieces = []
    for freq, seconds in notes:
        n = max(int(round(seconds * rate)), 1)
        t = np.arange(n) / rate
        if freq <= 0:
            pieces.append(np.zeros(n))
            continue
        tone = sum(np.sin(2 * np.pi * k * freq * t) / k ** 1.5 for k in (1, 2, 3) if k * freq < rate / 2)
        envelope = np.exp(-4.0 * t) * np.minimum(1.0, np.minimum(t, t[::-1]) / fade)
        pieces.append(tone * envelope)
    wave = np.concatenate(pieces) if pieces else np.zeros(1)
    peak = np.abs(wave).max()
    return (0.9 * wave / peak if peak > 0 else wave).astype(np.float32)


def tune_audio(text, max_seconds=6.0, rate=SAMPLE_RATE):
    """An IPython Audio player for the first `max_seconds` of a tune (8 kHz keeps notebooks small)."""
    from IPython.display import Audio
    wave = synthesize(tune_notes(text, max_seconds), rate)[: int(max_seconds * rate)]
    return Audio(wave, rate=rate, normalize=False)
