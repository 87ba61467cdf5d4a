"""Classify: which intent a clause expresses — a linear model over word and character n-grams.

In: the intents and their example utterances (``understanding/intents.yml``). Out: an
``IntentModel`` that gives each clause a ``Prediction`` (intent, probability, runner-up,
margin) and falls back to ``FALLBACK`` when unsure, like Rasa's FallbackClassifier.

Training (scikit-learn's logistic regression on TF-IDF features) happens at build time and the
weights are saved as a NumPy archive, so answering never imports scikit-learn. Features:
stemmed word unigrams and bigrams (what is asked) and ``char_wb``-style 3–5 character n-grams
inside each word (which absorb typos and unseen inflections).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chatbot.errors import ConfigError
from chatbot.text import stem, words
from chatbot.tuning import AMBIGUITY_MARGIN, THRESHOLD, C

log = logging.getLogger("chatbot.classify")

#: Bump when features change: a saved model with another version is retrained.
FEATURES_VERSION = "1"
FALLBACK = "fallback"


def features(text: str) -> Counter[str]:
    """Word unigrams and bigrams (stemmed) and 3–5 character n-grams within words."""
    toks = [stem(w) for w in words(text)] or ["<empty>"]
    feats: Counter[str] = Counter()
    feats.update(f"w:{t}" for t in toks)
    feats.update(f"b:{a}_{b}" for a, b in zip(["<s>", *toks], [*toks, "</s>"], strict=True))
    for w in toks:
        padded = f" {w} "
        for n in (3, 4, 5):
            feats.update(f"c:{padded[i:i + n]}" for i in range(max(1, len(padded) - n + 1)))
    return feats


@dataclass(frozen=True)
class Prediction:
    intent: str  # FALLBACK when unsure
    probability: float
    runner_up: str
    margin: float
    best: str  # the top intent even when it fell back

    @property
    def confident(self) -> bool:
        return self.intent != FALLBACK


class IntentModel:
    """A trained linear intent classifier (weights only; no scikit-learn needed)."""

    def __init__(self, classes: list[str], vocab: dict[str, int], idf: np.ndarray,
                 coef: np.ndarray, intercept: np.ndarray, digest: str) -> None:
        self.classes = classes
        self.vocab = vocab
        self.idf = idf
        self.coef = coef
        self.intercept = intercept
        self.digest = digest

    def _vector(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        feats = features(text)
        idx, vals = [], []
        for f, tf in feats.items():
            j = self.vocab.get(f)
            if j is not None:
                idx.append(j)
                vals.append((1.0 + math.log(tf)) * self.idf[j])
        v = np.asarray(vals, dtype=np.float64)
        norm = float(np.linalg.norm(v))
        return np.asarray(idx, dtype=np.int64), (v / norm if norm else v)

    def probabilities(self, text: str) -> dict[str, float]:
        idx, vals = self._vector(text)
        scores = self.coef[:, idx] @ vals + self.intercept if len(idx) else self.intercept.copy()
        scores = scores - scores.max()
        p = np.exp(scores)
        p /= p.sum()
        return dict(zip(self.classes, (float(x) for x in p), strict=True))

    def predict(self, text: str) -> Prediction:
        probs = sorted(self.probabilities(text).items(), key=lambda kv: -kv[1])
        (best, p1), (second, p2) = probs[0], probs[1]
        margin = p1 - p2
        unsure = p1 < THRESHOLD or margin < AMBIGUITY_MARGIN
        return Prediction(FALLBACK if unsure else best, p1, second, margin, best)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez_compressed(tmp, coef=self.coef, intercept=self.intercept, idf=self.idf,
                            meta=np.array(json.dumps({"classes": self.classes, "vocab": self.vocab,
                                                      "digest": self.digest})))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> IntentModel:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            return cls(meta["classes"], meta["vocab"], data["idf"], data["coef"],
                       data["intercept"], meta["digest"])


def examples_digest(examples: dict[str, list[str]]) -> str:
    blob = json.dumps([FEATURES_VERSION, C, sorted(examples.items())], ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def train(examples: dict[str, list[str]]) -> IntentModel:
    """Fit the classifier on ``{intent: [utterance, ...]}`` (imports scikit-learn)."""
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    texts = [t for intent in examples for t in examples[intent]]
    labels = [intent for intent in examples for _ in examples[intent]]
    if len(set(labels)) < 2:
        raise ConfigError("the intents file needs at least two intents with examples")
    counted = [features(t) for t in texts]
    vocab: dict[str, int] = {}
    df: Counter[str] = Counter()
    for feats in counted:
        df.update(feats.keys())
        for f in feats:
            vocab.setdefault(f, len(vocab))
    n = len(texts)
    idf = np.zeros(len(vocab))
    for f, j in vocab.items():
        idf[j] = math.log((1 + n) / (1 + df[f])) + 1.0
    rows, cols, vals = [], [], []
    for i, feats in enumerate(counted):
        v = {vocab[f]: (1.0 + math.log(tf)) * idf[vocab[f]] for f, tf in feats.items()}
        norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
        for j, x in v.items():
            rows.append(i)
            cols.append(j)
            vals.append(x / norm)
    matrix = csr_matrix((vals, (rows, cols)), shape=(n, len(vocab)))
    model = LogisticRegression(C=C, max_iter=2000, class_weight="balanced")
    model.fit(matrix, labels)
    return IntentModel(list(model.classes_), vocab, idf, model.coef_.astype(np.float64),
                       model.intercept_.astype(np.float64), examples_digest(examples))


_TRAINED: dict[str, IntentModel] = {}  # digest → model trained in this process (at most two kept)


def load_or_train(examples: dict[str, list[str]], path: Path | None) -> IntentModel:
    """The saved model when it was trained on these examples; else the one this process
    already trained on them; else train (and try to save)."""
    digest = examples_digest(examples)
    if path is not None and path.exists():
        try:
            model = IntentModel.load(path)
            if model.digest == digest:
                return model
        except (OSError, ValueError, KeyError) as exc:
            log.warning("intent model %s unreadable (%s); retraining", path.name, exc)
    model = _TRAINED.get(digest) or train(examples)
    _TRAINED.pop(digest, None)
    while len(_TRAINED) >= 2:
        _TRAINED.pop(next(iter(_TRAINED)))
    _TRAINED[digest] = model
    if path is not None:
        try:
            model.save(path)
        except OSError as exc:  # a read-only index folder still answers
            log.info("intent model kept in memory (%s)", exc.strerror)
    return model


def confusion(model: IntentModel, labelled: list[tuple[str, str]], read_op=None) -> list[list[str]]:
    """A confusion table (expected × read) for ``(text, expected intent)`` pairs; ``read_op``
    reads a text as the engine does (clauses, fallbacks), else the bare classifier is used."""
    intents = sorted({e for _t, e in labelled})
    read = [(read_op(t) if read_op else model.predict(t).intent) for t, _e in labelled]
    cols = sorted(set(read) | set(intents))
    counts = Counter(zip((e for _t, e in labelled), read, strict=True))
    rows = [["expected \\ read", *cols, "recall"]]
    for e in intents:
        total = sum(counts[(e, c)] for c in cols)
        rows.append([e, *(str(counts[(e, c)] or "") for c in cols),
                     f"{counts[(e, e)] / total:.0%}" if total else "-"])
    return rows
