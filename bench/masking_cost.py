"""What masking names and addresses costs a web worker (issue 16's budget: the form POST at most
2 ms slower at the median for a 300-character comment; a worker at most 150 MB larger).

    .venv/bin/python bench/masking_cost.py [--rounds 2000] [--full-deduce]

Side by side in one run, over the same 300-character comments: the masking before issue 16 (BSN,
phone number, e-mail address, IBAN) and the masking now (those, the new patterns, and deduce's
names and streets). The POST does nothing else differently, so the difference of the medians is
what the POST got slower. Memory and start-up: a fresh Python process with Django set up, its
resident set before and after ``masking.load()``.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kto.settings.test")

MEMORY = """
import django, time
django.setup()
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096
from surveys.responses import masking
before, started = rss(), time.perf_counter()
masking.load()
print(rss() - before, time.perf_counter() - started)
"""
# For comparison (--full-deduce): deduce as it comes, every lookup built (or read from the cache
# it writes into its own package folder on first use).
FULL_DEDUCE = """
import time
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096
before, started = rss(), time.perf_counter()
import deduce
model = deduce.Deduce()  # kept, as a web worker keeps it
print(rss() - before, time.perf_counter() - started)
"""


def comments(length: int = 300) -> list[str]:
    """The corpus's comments, each cut or repeated to ``length`` characters."""
    corpus = ROOT / "tests" / "responses" / "masking" / "corpus.jsonl"  # the development corpus
    texts = [json.loads(line)["text"] for line in corpus.read_text(encoding="utf-8").splitlines() if line]
    return [((text + " ") * (length // len(text) + 1))[:length] for text in texts]


def before_issue_16(text: str) -> str:
    from surveys.responses.masking import identifiers

    text = identifiers._mask_ibans(identifiers._EMAIL.sub(identifiers.EMAIL, text))
    return identifiers._mask_phone_numbers(identifiers._mask_bsns(text))


def medians(rounds: int) -> dict:
    import django

    django.setup()
    from surveys.responses.masking import load, mask_personal_data

    load()
    texts = comments()
    timings = {"before": [], "now": []}
    for i in range(rounds):
        text = texts[i % len(texts)]
        for name, mask in (("before", before_issue_16), ("now", mask_personal_data)):
            started = time.perf_counter()
            mask(text)
            timings[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) * 1000 for name, values in timings.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--full-deduce", action="store_true", help="also measure deduce with all its lookups")
    args = parser.parse_args()
    grown, seconds = subprocess.run(
        [sys.executable, "-c", MEMORY], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    ms = medians(args.rounds)
    report = {
        "comment_length": 300,
        "rounds": args.rounds,
        "median_ms_before": round(ms["before"], 3),
        "median_ms_now": round(ms["now"], 3),
        "median_ms_added": round(ms["now"] - ms["before"], 3),
        "worker_memory_added_mb": round(int(grown) / 1e6, 1),
        "load_seconds": round(float(seconds), 2),
    }
    if args.full_deduce:
        for attempt in ("first", "cached"):
            grown, seconds = subprocess.run(
                [sys.executable, "-c", FULL_DEDUCE], cwd=ROOT, capture_output=True, text=True, check=True
            ).stdout.split()[-2:]
            report[f"full_deduce_{attempt}_memory_mb"] = round(int(grown) / 1e6, 1)
            report[f"full_deduce_{attempt}_seconds"] = round(float(seconds), 2)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
