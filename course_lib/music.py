"""Tunes as music (chapter 06): a strict "is this a valid tune?" test and audio synthesized with NumPy.

music21 parses ABC text into notes; it is imported only here, on first use (about 0.5 s), and used
only on the few tunes a notebook plays or tests (about 0.03 s per tune). Audio is made with NumPy, no
external program: each note a plucked-string tone with short fades, so notes join without clicks.
"""
import contextlib
import io
import re
import warnings
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

MIN_BARS = 8
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


_FIELD_LINE = re.compile(r"^\s*([A-Za-z]):(.*)$")
_INLINE_FIELD = re.compile(r"\[([A-Za-z]):([^\]\n]*)\]")
_ZERO_LENGTH = re.compile(r'![^!\n]*!|"[^"\n]*"|\{[^}\n]*\}')          # decorations, annotations, grace notes
_BARLINE = re.compile(r"::|:*\[?\|+\]?:*(?:\[?\d(?:[,-]\d)*)?|\[\d(?:[,-]\d)*")
_TUPLET = re.compile(r"\((\d)(?::(\d?))?(?::(\d?))?")
_NOTE = re.compile(r"[_^=]*[A-Ga-g][,']*|[zxZ]")
_LENGTH = re.compile(r"(\d*)(/*)(\d*)")


def meter_bar_length(meter):
    """The length of one bar of an M: field in whole notes ('C' = 4/4, 'C|' = 2/2); None for a free meter."""
    meter = meter.strip()
    if meter in ("C", "C|"):
        return Fraction(1)
    match = re.fullmatch(r"(\d+(?:\+\d+)*)\s*/\s*(\d+)", meter)
    return Fraction(sum(int(n) for n in match.group(1).split("+")), int(match.group(2))) if match else None


def _length(text, pos):
    """The length written at text[pos:] ('' = 1, '2' = 2, '/' = 1/2, '//' = 1/4, '3/2' = 3/2) and where it ends."""
    match = _LENGTH.match(text, pos)
    num, slashes, den = match.groups()
    value = Fraction(int(num) if num else 1)
    if slashes:
        value /= int(den) if den else 2 ** len(slashes)
    return value, match.end()


def _tuplet_time(p, meter_bar):
    """ABC's default q of a tuplet (p: 'p notes in the time of q')."""
    compound = meter_bar is not None and meter_bar.denominator == 8 and meter_bar.numerator % 3 == 0 and meter_bar.numerator > 3
    return {2: 3, 3: 2, 4: 3, 6: 2, 8: 3}.get(p, 3 if compound else 2)


def tune_bars(text):
    """The bars of an ABC tune (header lines and body), with their lengths as written.

    returns a list of (length, meter_length, left_barline, right_barline): lengths in whole notes (Fractions),
    the meter's bar length where the bar is (None for a free meter), and the barlines on either side ('' at
    the start and the end of the tune). Grace notes, decorations and annotations have no length; chords last
    as long as their first note; tuplets, broken rhythms (> <) and meter or unit changes inside the tune are
    followed. Bars with no notes (between two adjacent barlines) are left out, their barlines joined to the
    neighbours'.
    """
    meter, unit = None, Fraction(1, 8)
    bars, length, left, has_notes = [], Fraction(0), "", False
    tuplet_scale, tuplet_left, next_scale, last = Fraction(1), 0, Fraction(1), None

    def close(barline):
        nonlocal length, left, has_notes, last
        if has_notes:
            bars.append([length, meter, left, barline])
            left = barline
        else:
            left = (left + barline) if bars or left else barline
            if bars:
                bars[-1][3] += barline
        length, has_notes, last = Fraction(0), False, None

    def set_field(name, value):  # M: and L: change how later notes and bars are counted; other fields don't
        nonlocal meter, unit
        if name.upper() == "M":
            meter = meter_bar_length(value)
        elif name.upper() == "L" and meter_bar_length(value) is not None:
            unit = meter_bar_length(value)

    def add(value):
        nonlocal length, has_notes, tuplet_left, next_scale, last
        if tuplet_left:
            value, tuplet_left = value * tuplet_scale, tuplet_left - 1
        value, next_scale = value * next_scale, Fraction(1)
        length, has_notes, last = length + value, True, value

    for line in text.split("\n"):
        field = _FIELD_LINE.match(line)
        if field:
            set_field(*field.groups())
            continue
        line = _ZERO_LENGTH.sub(" ", line.split("%")[0])
        i = 0
        while i < len(line):
            c = line[i]
            if (match := _INLINE_FIELD.match(line, i)):
                set_field(*match.groups())
                i = match.end()
            elif (match := _BARLINE.match(line, i)) and match.group():
                close(match.group())
                i = match.end()
            elif (match := _TUPLET.match(line, i)):
                p = int(match.group(1))
                q = int(match.group(2)) if match.group(2) else _tuplet_time(p, meter)
                tuplet_scale, tuplet_left = Fraction(q, p), int(match.group(3)) if match.group(3) else p
                i = match.end()
            elif c in "[+":                                   # a chord: as long as its first note
                end = line.find("]" if c == "[" else "+", i + 1)
                end = len(line) if end < 0 else end
                inner = _NOTE.search(line, i + 1, end)
                value = _length(line, inner.end())[0] if inner else Fraction(1)
                multiplier, i = _length(line, end + 1)
                add(value * multiplier * unit)
            elif c in "<>":                                   # broken rhythm: a> b = 3/2 a, 1/2 b
                run = len(re.match(r"[<>]+", line[i:]).group())
                short = Fraction(1, 2 ** run)
                if last is not None:
                    factor = 2 - short if c == ">" else short
                    length += last * (factor - 1)
                next_scale = short if c == ">" else 2 - short
                i += run
            elif (match := _NOTE.match(line, i)):
                value, i = _length(line, match.end())
                if match.group() == "Z":                      # Z: whole bars of rest
                    length, has_notes = length + value * (meter or 0), True
                else:
                    add(value * unit)
            else:
                i += 1
    close("")
    return [tuple(bar) for bar in bars]


def unbalanced(text):
    """'' when the body's slurs (), chords [], grace notes {} and annotations "" open and close in order
    (tuplet marks such as (3, barlines such as [| and |], ending marks [1 and inline fields [K:...] are not
    brackets); otherwise one sentence saying what is unbalanced."""
    body = "\n".join(line for line in text.split("\n") if not _FIELD_LINE.match(line))
    if any(line.count('"') % 2 for line in body.split("\n")):
        return 'an annotation\'s quote (") is not closed on its line'
    body = re.sub(r'"[^"\n]*"|![^!\n]*!', " ", body)
    body = _INLINE_FIELD.sub(" ", _TUPLET.sub(" ", body))
    body = re.sub(r"\[\||\|\]|\[\d", " ", body)
    depth = {"(": 0, "[": 0, "{": 0}
    closing = {")": "(", "]": "[", "}": "{"}
    names = {"(": "slur", "[": "chord", "{": "grace-note group"}
    for char in body:
        if char in depth:
            if char != "(" and depth[char]:
                return f"a {names[char]} opens inside another ({char} before the previous one closed)"
            depth[char] += 1
        elif char in closing:
            if not depth[closing[char]]:
                return f"a {names[closing[char]]} closes ({char}) that was never opened"
            depth[closing[char]] -= 1
    still_open = [names[c] for c, n in depth.items() if n]
    return f"a {still_open[0]} is never closed" if still_open else ""


def wrong_bars(bars):
    """Numbers (from 1) of the bars of `tune_bars` whose length breaks the meter: longer than one bar anywhere, or
    shorter where a bar must be complete. The first and last bars, and a bar beside a section barline (a double
    bar, a repeat, an ending), may be shorter: a pick-up, its complement, first and second endings."""
    wrong = []
    for number, (length, meter, left, right) in enumerate(bars, start=1):
        if meter is None or length == meter:
            continue
        may_be_short = number in (1, len(bars)) or left != "|" or right != "|"
        if length > meter or not may_be_short:
            wrong.append(number)
    return wrong


@dataclass
class BarReport:
    """What `check_tune` found. bars: how many bars; wrong_bars: numbers of the bars whose length breaks the
    meter (see `wrong_bars`); why: the first rule the tune breaks, '' when it is valid."""
    has_meter: bool
    has_key: bool
    parsed: bool
    bars: int
    wrong_bars: list
    valid: bool
    why: str


def check_tune(text, min_bars=MIN_BARS):
    """The course's strict test of a tune, stated in full:

    1. the header has a meter line (`M:`) with a regular meter (such as 6/8 or C|) and a key line (`K:`);
    2. slurs, chords, grace-note groups and annotations are balanced (`unbalanced`);
    3. the tune has at least `min_bars` bars;
    4. every complete bar lasts exactly one bar of the meter, counted from the notes as written (`tune_bars`):
       no bar is longer, and only the first and last bars and the bars beside a section barline (double bar,
       repeat, ending) may be shorter — a pick-up and its complement;
    5. music21 parses the text without an error (last: at ~0.1 s a tune it is the slow rule, and `parsed`
       stays False when an earlier rule already failed).
    """
    has_meter = re.search(r"^M:\s*\S", text, flags=re.M) is not None
    has_key = re.search(r"^K:\s*\S", text, flags=re.M) is not None

    def report(parsed, bars=0, wrong=(), why=""):
        return BarReport(has_meter, has_key, parsed, bars, list(wrong), not why, why)

    if not (has_meter and has_key):
        return report(False, why="no meter (M:) or key (K:) line")
    meter = re.search(r"^M:(.*)$", text, flags=re.M).group(1)
    if meter_bar_length(meter) is None:
        return report(False, why=f"the meter {meter.strip()!r} is not a regular one")
    problem = unbalanced(text)
    if problem:
        return report(False, why=problem)
    bars = tune_bars(text)
    wrong = wrong_bars(bars)
    if len(bars) < min_bars:
        return report(False, len(bars), wrong, f"only {len(bars)} bar" + ("" if len(bars) == 1 else "s"))
    if wrong:
        return report(False, len(bars), wrong, f"bar {wrong[0]} lasts {bars[wrong[0] - 1][0]} of a whole note, "
                                               f"a bar of the meter {bars[wrong[0] - 1][1]}")
    try:
        parse_abc_tune(text)
    except ValueError as exc:
        return report(False, len(bars), wrong, why=str(exc))
    return report(True, len(bars), wrong)


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
