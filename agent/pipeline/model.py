"""A calibrated linear model over words, character n-grams and rule/act hits, trained at load from rules/examples*.jsonl.

Rules read the acts a clerk writes; the model generalises where the cues run out (one-line staff notes, odd
phrasings, OCR noise). It is plain scikit-learn fitted from text in the repository (no weights, no pickles),
reproducible (fixed seed) and cached per process by the hash of what it was trained on.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from sklearn.linear_model import SGDClassifier

from agent.pipeline import model_cache
from agent.pipeline.rules import RulesError
from agent.pipeline.stage_data import LABELS

EXAMPLE_GLOB = "examples*.jsonl"
FILE_NAME = "examples.jsonl"  # the first file; others (examples_*.jsonl) add to it
MAX_CHARS = 3000  # what a letter says that matters is in its first pages; keeps prediction fast
# Character n-grams catch odd spellings and OCR noise; the opening of a letter is enough for them, and they
# are the costliest features to compute (about one string per character per n).
CHAR_CHARS = 1200
SEED = 14
ALPHA = 1e-4  # L2 strength
EPOCHS = 12
CALIBRATION_SHARE = 0.2  # examples held out to fit the temperature
# Our examples are cleaner than real mail: a held-back split of them says the model is right 99 % of the time
# where real letters show about 90 %. A share of every prediction goes to the labels evenly (the most a
# reading can claim is then about 0.95); the fitted temperature has a floor so a tiny split cannot make it wild.
SMOOTHING = 0.05
MIN_TEMPERATURE = 0.5
_DIGIT = re.compile(r"\d")
_SPACE = re.compile(r"\s+")

Hints = Callable[[str], Sequence[str]]


@dataclass(frozen=True)
class Example:
    text: str
    label: str
    source: str = ""


def model_text(text: str) -> str:
    """What the model reads: lower case, digits folded (an amount or a date is a shape, not a value)."""
    return _DIGIT.sub("0", _SPACE.sub(" ", text[:MAX_CHARS].lower()))


def _openings(texts: list[str]) -> list[str]:
    return [t[:CHAR_CHARS] for t in texts]


def _identity(tokens: Sequence[str]) -> Sequence[str]:
    return tokens


class LinearModel:
    """Multinomial logistic regression with temperature scaling fitted on a held-back share of the examples."""

    def __init__(self, examples: Sequence[tuple[str, str, Sequence[str]]], seed: int = SEED) -> None:
        texts = [model_text(t) for t, _, _ in examples]
        hints = [list(h) for _, _, h in examples]
        labels = [label for _, label, _ in examples]
        # scikit-learn and SciPy load here, not at import: every command imports this module, few train.
        from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

        self.words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1, token_pattern=r"(?u)\b[a-z0][a-z0']+\b")
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=2, max_features=40000)
        self.hints = CountVectorizer(analyzer=_identity, binary=True)
        matrix = self._fit_features(texts, hints)
        order = list(range(len(labels)))
        random.Random(seed).shuffle(order)
        cut = max(1, int(len(order) * CALIBRATION_SHARE))
        held, kept = order[:cut], order[cut:]
        y = np.array(labels)
        first = self._classifier().fit(matrix[kept], y[kept])
        self.temperature = max(MIN_TEMPERATURE, _fit_temperature(_logits(first, matrix[held]), list(first.classes_), y[held]))
        self.classifier = self._classifier().fit(matrix, y)
        self.labels: tuple[str, ...] = tuple(str(c) for c in self.classifier.classes_)
        # Prediction multiplies each feature block by its slice of the weights: no sparse stacking per message.
        weights = np.asarray(self.classifier.coef_).T
        widths = [len(self.words.vocabulary_), len(self.chars.vocabulary_), len(self.hints.vocabulary_)]
        edges = np.cumsum([0] + widths)
        self._blocks = tuple(np.ascontiguousarray(weights[a:b]) for a, b in zip(edges, edges[1:]))
        self._intercept = np.asarray(self.classifier.intercept_)

    @staticmethod
    def _classifier() -> SGDClassifier:
        from sklearn.linear_model import SGDClassifier

        # Logistic loss fitted by averaged stochastic gradient descent: one binary regression per label, a
        # fraction of a second on a few thousand examples (lbfgs and liblinear take many times longer). The
        # softmax of their scores, temperature-scaled, is the calibrated distribution.
        return SGDClassifier(loss="log_loss", alpha=ALPHA, max_iter=EPOCHS, tol=None, average=True, random_state=SEED)

    def _fit_features(self, texts: list[str], hints: list[list[str]]) -> Any:
        from scipy import sparse

        return sparse.hstack(
            [self.words.fit_transform(texts), self.chars.fit_transform(_openings(texts)), self.hints.fit_transform(hints)]
        ).tocsr()

    def _features(self, texts: list[str], hints: list[list[str]]) -> Any:
        from scipy import sparse

        return sparse.hstack(
            [self.words.transform(texts), self.chars.transform(_openings(texts)), self.hints.transform(hints)]
        ).tocsr()

    def probabilities(self, text: str, hints: Sequence[str] = ()) -> dict[str, float]:
        """Calibrated P(label | text, hits) for every label the examples know."""
        clean = model_text(text)
        words, chars, hinted = self._blocks
        scores = (
            self._intercept
            + self._tfidf_scores(self.words, words, clean)
            + self._tfidf_scores(self.chars, chars, clean[:CHAR_CHARS])
            + self._hint_scores(hints, hinted)
        )
        logits = np.array([-scores[0] / 2, scores[0] / 2]) if len(scores) == 1 else scores
        spread = SMOOTHING / len(self.labels)
        probs = _softmax(logits / self.temperature)
        return dict(zip(self.labels, (float((1 - SMOOTHING) * p + spread) for p in probs)))

    # One message at a time, scikit-learn's transform spends most of its time validating its input; these
    # compute the same tf-idf row (sublinear tf, idf, L2 norm) straight from the fitted vocabulary.
    def _tfidf_scores(self, vectorizer: Any, block: Any, text: str) -> Any:
        analyzers = self.__dict__.setdefault("_analyzers", {})
        analyze = analyzers.get(id(vectorizer))
        if analyze is None:
            analyze = analyzers[id(vectorizer)] = vectorizer.build_analyzer()
        vocabulary: dict[str, int] = vectorizer.vocabulary_
        counts: dict[int, int] = {}
        for token in analyze(text):
            index = vocabulary.get(token)
            if index is not None:
                counts[index] = counts.get(index, 0) + 1
        if not counts:
            return np.zeros(block.shape[1])
        indices = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
        values = (1.0 + np.log(np.fromiter(counts.values(), dtype=float, count=len(counts)))) * vectorizer.idf_[indices]
        values /= np.sqrt(values @ values)
        return values @ block[indices]

    def _hint_scores(self, hints: Sequence[str], block: Any) -> Any:
        vocabulary: dict[str, int] = self.hints.vocabulary_
        indices = sorted({vocabulary[h] for h in hints if h in vocabulary})
        return block[indices].sum(axis=0) if indices else np.zeros(block.shape[1])

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_analyzers", None)  # closures over this object's vectorizers: rebuilt on first use
        return state

    def predict(self, text: str, hints: Sequence[str] = ()) -> tuple[str, float]:
        probs = self.probabilities(text, hints)
        label = max(probs, key=lambda k: probs[k])
        return label, probs[label]


def _logits(classifier: SGDClassifier, matrix: Any) -> Any:
    """One score per class and row (a two-label model gives one column; spread it into two)."""
    scores = classifier.decision_function(matrix)
    if scores.ndim == 1:
        scores = np.column_stack([-scores / 2, scores / 2])
    return scores


def _softmax(logits: Any) -> Any:
    shifted = np.exp(logits - np.max(logits))
    return shifted / shifted.sum()


def _fit_temperature(logits: Any, classes: list[str], gold: Any) -> float:
    """The one scale that makes held-back probabilities honest (lowest negative log-likelihood)."""
    index = {c: i for i, c in enumerate(classes)}
    rows = [(row, index[g]) for row, g in zip(logits, gold) if g in index]
    if not rows:
        return 1.0

    def nll(t: float) -> float:
        total = 0.0
        for row, k in rows:
            scaled = row / t
            top = float(np.max(scaled))
            total += top + math.log(float(np.exp(scaled - top).sum())) - float(scaled[k])
        return total / len(rows)

    # A coarse-to-fine search is enough for one scalar and needs no optimiser.
    grid = [0.05 * 1.15**i for i in range(45)]
    best = min(grid, key=nll)
    fine = [best * (0.9 + 0.01 * i) for i in range(21)]
    return float(min(fine, key=nll))


def read_examples(rules_dir: Path) -> list[Example]:
    """Every examples*.jsonl file in the rules directory, one {"label", "text"} object per line."""
    out: list[Example] = []
    for path in sorted(Path(rules_dir).glob(EXAMPLE_GLOB)):
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise RulesError(path, "(file)", str(exc)) from None
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                label, text = row["label"], row["text"]
            except (json.JSONDecodeError, KeyError, TypeError):
                raise RulesError(path, f"line {number}", 'expected {"label": ..., "text": ...}') from None
            if label not in LABELS:
                raise RulesError(path, f"line {number}.label", f"unknown label {label!r}")
            if not isinstance(text, str) or not text.strip():
                raise RulesError(path, f"line {number}.text", "must be a non-empty string")
            out.append(Example(text, label, f"{path.name}:{number}"))
    return out


_CACHE: dict[str, LinearModel] = {}


def train(examples: Iterable[tuple[str, str]], hints: Hints, hints_key: str = "") -> LinearModel | None:
    """Fit the model on (text, label) pairs; the same data (and the same rules behind `hints`, named by
    `hints_key`) gives the same model, fitted once per process."""
    pairs = list(examples)
    if len({label for _, label in pairs}) < 2:
        return None
    key = hashlib.sha256(json.dumps([hints_key, pairs, model_cache.code_version()], ensure_ascii=False).encode()).hexdigest()
    model = _CACHE.get(key)
    if model is None:
        cached = model_cache.load(key)
        model = cached if isinstance(cached, LinearModel) else None
        if model is None:
            model = LinearModel([(text, label, tuple(hints(text))) for text, label in pairs])
            model_cache.store(key, model)
        _CACHE[key] = model
    return model
