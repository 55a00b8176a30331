"""The official npm MJML, run in node over many MJML sources at once: a reference oracle for tests."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NODE_MODULES = REPO / ".node" / "node_modules"
SCRIPT = REPO / "scripts" / "official-mjml.js"


def available() -> bool:
    return shutil.which("node") is not None and (NODE_MODULES / "mjml" / "package.json").is_file()


def compile_all(sources: list[str], validation_level: str = "strict", iterations: int = 1) -> dict:
    """{"results": [{"html", "errors"}], "median_ms": [...]} for each source, compiled in one node process."""
    request = json.dumps({"mjml": sources, "validationLevel": validation_level, "iterations": iterations})
    done = subprocess.run(
        ["node", str(SCRIPT)],
        input=request,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "NODE_PATH": str(NODE_MODULES)},
        timeout=600,
    )
    return json.loads(done.stdout)


def validate_files(paths: list[Path]) -> list[list[dict]]:
    """Official strict validation of each MJML file, its mj-include resolved: [{"line", "message", "tagName"}] per
    file."""
    request = json.dumps({"files": [str(p) for p in paths], "validationLevel": "strict"})
    done = subprocess.run(
        ["node", str(SCRIPT)],
        input=request,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "NODE_PATH": str(NODE_MODULES)},
        timeout=600,
    )
    return [result["errors"] for result in json.loads(done.stdout)["results"]]
