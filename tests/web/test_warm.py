"""The first case page after start is as fast as the rest: the app loads the engine and the
library's semantic model when it starts, before it answers its first request (web.parts.warm_up)."""

from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = r"""
import json, sys, time
from fastapi.testclient import TestClient
from openimr.engine import facts
from openimr.library import embed
from openimr.web import parts
from openimr.web.app import create_app

app = create_app(sys.argv[1], warm=sys.argv[2] == "warm")
with TestClient(app):  # the app has started: the server would answer now
    if sys.argv[2] == "warm":
        assert app.state.warmed.is_set(), "the app answers before the warm-up finished"
    loaded = {"pipeline": facts._pipeline.cache_info().currsize, "model": embed.load_model.cache_info().currsize}
    started = time.perf_counter()
    drafts = parts.engine_drafts({"disputed_items": [{"request": "MRI of the right knee"}],
        "documents": [{"kind": "medical_record", "text": "Knee pain after a fall; McMurray's test is positive."}]})
    print(json.dumps({"loaded": loaded, "first_draft_s": time.perf_counter() - started, "items": len(drafts or [])}))
"""


def _run(tmp_path, mode: str) -> dict:
    url = f"sqlite:///{tmp_path / (mode + '.sqlite')}"
    done = subprocess.run([sys.executable, "-c", SCRIPT, url, mode], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_start_loads_the_engine_and_the_library_model_before_the_first_request(tmp_path):
    warm = _run(tmp_path, "warm")
    assert warm["loaded"] == {"pipeline": 1, "model": 1}
    assert warm["items"] == 1
    assert warm["first_draft_s"] < 1.0, warm
    cold = _run(tmp_path, "cold")  # the same draft without the warm-up pays the loading
    assert cold["loaded"]["pipeline"] == 0
    assert cold["first_draft_s"] > warm["first_draft_s"]
