"""Real folk tunes in ABC notation, read as text from the corpus that ships inside the `music21` package.

Nothing is downloaded and nothing is copied into the repository: the files are located inside the
installed package and read at run time. The default collection is O'Neill's "Music of Ireland" (1850)
as transcribed in music21's corpus (`corpus/oneills1850`).
"""
import importlib.util
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

DEFAULT_COLLECTION = "oneills1850"
_FIELD = re.compile(r"^([A-Za-z]):\s*(.*)$")


@dataclass(frozen=True)
class Tune:
    """One tune: its header fields and its body (the notes, one ABC line per line)."""
    number: int
    title: str
    meter: str
    unit: str
    key: str
    rhythm: str
    body: str

    def text(self):
        """The text a character model reads: meter, unit length, rhythm and key, then the body."""
        head = [f"M:{self.meter}", f"L:{self.unit}"] + ([f"R:{self.rhythm}"] if self.rhythm else []) + [f"K:{self.key}"]
        return "\n".join(head) + "\n" + self.body + "\n"

    @property
    def kind(self):
        """The tune type in lower case without spaces ('reel', 'jig', 'hornpipe', ...), '' if unknown."""
        kind = self.rhythm.lower().replace(" ", "").replace("-", "")
        return "jig" if kind == "doublejig" else kind


def corpus_dir(collection=DEFAULT_COLLECTION):
    """Folder of a collection inside the installed music21 package (music21 itself is not imported)."""
    spec = importlib.util.find_spec("music21")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("music21 is not installed; install the course with `make install` or `pip install -e .`.")
    folder = Path(next(iter(spec.submodule_search_locations))) / "corpus" / collection
    if not folder.is_dir():
        raise FileNotFoundError(f"music21 has no corpus collection {collection!r} (looked in {folder}).")
    return folder


def parse_abc(text):
    """Split an ABC file's text into Tunes. Tunes without an X:, K: or body are skipped."""
    tunes = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n")):
        fields, body, in_body = {}, [], False
        for line in block.strip().splitlines():
            if line.startswith("%"):
                continue
            m = _FIELD.match(line)
            if not in_body and m:
                fields.setdefault(m.group(1).upper(), m.group(2).strip())
                in_body = m.group(1).upper() == "K"
            elif in_body and line.strip():
                body.append(line.rstrip())
        if "X" in fields and body and fields["X"].isdigit():
            tunes.append(Tune(int(fields["X"]), fields.get("T", ""), fields.get("M", ""), fields.get("L", "1/8"),
                              fields.get("K", ""), fields.get("R", ""), "\n".join(body)))
    return tunes


@lru_cache(maxsize=4)
def _load(collection):
    seen = {}
    for path in sorted(corpus_dir(collection).glob("*.abc")):
        for tune in parse_abc(path.read_text(encoding="utf-8", errors="replace")):
            seen.setdefault(tune.number, tune)  # some files of the collection overlap: keep the first copy
    return tuple(seen[n] for n in sorted(seen))


def load_tunes(collection=DEFAULT_COLLECTION):
    """All tunes of a collection, one per tune number, sorted by number."""
    return list(_load(collection))


def split_tunes(tunes, every=10):
    """Train / validation split by tune: every `every`-th tune (positions every-1, 2*every-1, ...) is held out."""
    if every < 2:
        raise ValueError(f"every must be at least 2, got {every}.")
    if len(tunes) < every:
        raise ValueError(f"split_tunes got {len(tunes)} tunes; with every={every} the held-out split would be empty.")
    train = [t for i, t in enumerate(tunes) if i % every != every - 1]
    valid = [t for i, t in enumerate(tunes) if i % every == every - 1]
    return train, valid


class Vocab:
    """Characters <-> integer ids. ids are assigned in sorted character order, so they are stable."""

    def __init__(self, texts):
        self.chars = sorted(set("".join(texts)))
        self.index = {c: i for i, c in enumerate(self.chars)}

    def __len__(self):
        return len(self.chars)

    def encode(self, text):
        """text -> (T,) int64 ids; ValueError naming the first unknown character."""
        try:
            return np.array([self.index[c] for c in text], dtype=np.int64)
        except KeyError as exc:
            raise ValueError(f"text contains {exc.args[0]!r}, which is not in the vocabulary.") from None

    def decode(self, ids):
        return "".join(self.chars[int(i)] for i in ids)


def load_split(collection=DEFAULT_COLLECTION, every=10):
    """The course's tune data in one call: (train tunes, held-out tunes, character Vocab).

    The split is by tune (`split_tunes`); the vocabulary covers the characters of every tune of the
    collection. An unknown collection raises FileNotFoundError, a split that would be empty ValueError.
    """
    tunes = load_tunes(collection)
    train, valid = split_tunes(tunes, every)
    return train, valid, Vocab([t.text() for t in tunes])

