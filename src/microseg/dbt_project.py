"""Where the dbt project lives and what its dbt_project.yml says. Imports nothing else of
microseg, so any module (microseg.rules included) can read the vars without a loop."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

PACKAGE_ROOT = Path(__file__).resolve().parents[2]
# `microseg build` builds in two phases around `microseg train`: everything but the model
# registry's descendants, then those (microseg.ledger.ML_PHASES: together one build).
ML_PHASE_SELECTOR = "source:ml+"


def project_dir() -> Path:
    """The dbt project: MICROSEG_PROJECT_DIR, else the nearest dbt_project.yml upwards."""
    if env := os.environ.get("MICROSEG_PROJECT_DIR"):
        return Path(env).resolve()
    for folder in [Path.cwd(), *Path.cwd().parents]:
        if (folder / "dbt_project.yml").is_file() and (folder / "src" / "microseg").is_dir():
            return folder
    return PACKAGE_ROOT


def build_dir() -> Path:
    return project_dir() / "build"


def project_vars(root: Path | None = None) -> dict[str, Any]:
    """The vars of dbt_project.yml (in `root`, default project_dir()): every threshold's home."""
    project = yaml.safe_load(((root or project_dir()) / "dbt_project.yml").read_text())
    return dict(project.get("vars") or {})
