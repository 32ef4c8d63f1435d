"""Regenerate benchmarks/reverse_accuracy.json: reverse-task sequence accuracy by input length for the
encoder-decoder of chapter 07 and, from chapter 09 on, the same with attention (same budget and seed).

    .venv/bin/python benchmarks/reverse_accuracy.py

tests/test_seq2seq.py retrains both curves and checks them against this file.
"""
import json
import sys

from course_lib import seed_everything
from course_lib.seq2seq import REVERSE_FILE, AttentionEncoderDecoder, EncoderDecoder, reverse_curve

MODELS = {"GRU encoder-decoder": EncoderDecoder, "with attention": AttentionEncoderDecoder}


def main():
    seed_everything(0)
    curves = {name: {str(L): round(acc, 4) for L, acc in reverse_curve(cls)[0].items()} for name, cls in MODELS.items()}
    REVERSE_FILE.write_text(json.dumps(curves, indent=2) + "\n")
    for name, curve in curves.items():
        print(f"{name:>20}: " + "  ".join(f"L={L}: {100 * a:.0f}%" for L, a in curve.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
