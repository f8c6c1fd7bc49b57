"""The masking report of docs/masking.md: recall and false positives per category on the test
corpora, and the figures that must survive but did not.

    .venv/bin/python bench/masking_corpus.py [--misses]
"""

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kto.settings.test")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="also list every miss and every lost figure")
    args = parser.parse_args()
    import django

    django.setup()
    from surveys.responses.masking import mask_personal_data
    from tests.responses.masking.corpus import CORPORA, evaluate, markdown

    for name, path in CORPORA.items():
        report = evaluate(mask_personal_data, path)
        print(f"### {name.capitalize()} corpus ({path.name})\n\n{markdown(report)}\n")
        if args.misses:
            for category, text, masked in report.misses:
                print(f"- missed {category}: {text!r} in {masked!r}")
            for keep, masked in report.keep_lost:
                print(f"- lost {keep!r} in {masked!r}")
            print()


if __name__ == "__main__":
    main()
