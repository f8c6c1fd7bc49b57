"""The masking corpora (realistic comments, each with the personal data it holds and the figures
that must survive) and what masking does to them: recall and false positives per category, and
the figures lost. Used by test_corpus.py and bench/masking_corpus.py.

corpus.jsonl was written for the tests and used while the masking was developed; heldout.jsonl
was written afterwards, by someone who had seen neither the code nor the first corpus, and was
not used to tune anything."""

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).parent
CORPORA = {"development": HERE / "corpus.jsonl", "held-out": HERE / "heldout.jsonl"}
PLACEHOLDERS = {
    "NAAM": "[NAAM]",
    "ADRES": "[ADRES]",
    "POSTCODE": "[POSTCODE]",
    "GEBOORTEDATUM": "[GEBOORTEDATUM]",
    "KENTEKEN": "[KENTEKEN]",
    "DOCUMENTNUMMER": "[DOCUMENTNUMMER]",
    "BSN": "[BSN]",
    "TELEFOON": "[TELEFOON]",
    "E-MAIL": "[E-MAIL]",
    "IBAN": "[IBAN]",
}
# Words of a name or an address that identify nobody on their own.
_PARTICLES = {"van", "de", "der", "den", "het", "ten", "ter", "el", "al", "ben", "bin", "la", "le", "da", "dos"}
_WORD = re.compile(r"[^\W\d_][\w'-]*")


def comments(path: Path = CORPORA["development"]) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@dataclass
class Report:
    comments: int = 0
    found: Counter = field(default_factory=Counter)
    total: Counter = field(default_factory=Counter)
    false_positives: Counter = field(default_factory=Counter)
    misses: list = field(default_factory=list)
    keep_total: int = 0
    keep_lost: list = field(default_factory=list)

    def recall(self, category: str) -> float:
        return self.found[category] / self.total[category] if self.total[category] else 1.0

    @property
    def keep_lost_share(self) -> float:
        return len(self.keep_lost) / self.keep_total if self.keep_total else 0.0


def _leaked_words(comment: dict, masked: str) -> set[str]:
    """Words of names and addresses that are in the masked text more often than the original
    has them outside its personal data: what a partial mask left of a name ("Jan [NAAM]")."""
    outside = comment["text"]
    for item in comment["pii"]:
        outside = outside.replace(item["text"], " ")
    words = {
        word
        for item in comment["pii"]
        if item["category"] in ("NAAM", "ADRES")
        for word in _WORD.findall(item["text"])
        if len(word) >= 3 and word.lower() not in _PARTICLES
    }

    def count(word: str, text: str) -> int:
        return len(re.findall(rf"(?<!\w){re.escape(word)}(?!\w)", text))

    return {word for word in words if count(word, masked) > count(word, outside)}


def evaluate(mask, path: Path = CORPORA["development"]) -> Report:
    report = Report()
    for comment in comments(path):
        report.comments += 1
        masked = mask(comment["text"])
        leaked = _leaked_words(comment, masked)
        expected = Counter(item["category"] for item in comment["pii"])
        for item in comment["pii"]:
            category = item["category"]
            report.total[category] += 1
            survived = item["text"] in masked or any(word in leaked for word in _WORD.findall(item["text"]))
            if survived:
                report.misses.append((category, item["text"], masked))
            else:
                report.found[category] += 1
        for category, placeholder in PLACEHOLDERS.items():
            extra = masked.count(placeholder) - comment["text"].count(placeholder) - expected[category]
            if extra > 0:
                report.false_positives[category] += extra
        for keep in comment["keep"]:
            report.keep_total += 1
            if keep not in masked:
                report.keep_lost.append((keep, masked))
    return report


def markdown(report: Report) -> str:
    lines = [
        f"{report.comments} comments. A finding counts as masked when nothing of it survives (of a name "
        "or an address: no word of three letters or more).",
        "",
        "| category | in corpus | masked | recall | false positives |",
        "|---|---:|---:|---:|---:|",
    ]
    for category in PLACEHOLDERS:
        lines.append(
            f"| {PLACEHOLDERS[category]} | {report.total[category]} | {report.found[category]} | "
            f"{report.recall(category):.1%} | {report.false_positives[category]} |"
        )
    lines += [
        "",
        f"Figures and words that must survive: {report.keep_total}, lost: {len(report.keep_lost)} "
        f"({report.keep_lost_share:.1%}).",
    ]
    return "\n".join(lines)
