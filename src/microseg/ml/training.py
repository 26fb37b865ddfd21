"""`microseg train`: fit the models that are due on a build's features, in Python, and
store them in the warehouse's registry (source ml), from which every warehouse
scores them in SQL.

The build's relations and the ML settings come from the manifest of the dbt run that built
the training inputs (int_ml_models carries the settings as its `ml_settings` config). Only
models older than `microseg__ml_retrain_after_days` are fitted; when none is due nothing is
read. The quality table is replaced by the latest models' metrics and one status row per
model.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from microseg.ml.registry import (
    MODEL_COLUMNS,
    model_statuses,
    nothing_due,
    quality_rows,
    train_models,
)
from microseg.ml.settings import Settings, person_columns
from microseg.warehouse import Warehouse

REGISTRY_TABLE, QUALITY_TABLE = "ml_models", "ml_model_quality"
QUALITY_COLUMNS = (
    "quality_metric_id", "model_version", "model_name", "metric_group", "item", "metric",
    "value", "status", "reason",
)  # fmt: skip


@dataclass
class TrainingReport:
    trained: list[str] = field(default_factory=list)  # model versions added
    skipped: dict[str, str] = field(default_factory=dict)  # model -> why not trained
    nothing_due: bool = False
    seconds: float = 0.0

    def line(self) -> str:
        if self.nothing_due:
            return f"ml: no model due for retraining ({self.seconds:.1f} s)"
        trained = ", ".join(version.split("@")[0] for version in self.trained) or "none"
        text = f"ml: trained {trained} in {self.seconds:.1f} s"
        if self.skipped:
            text += "; not trained: " + "; ".join(f"{k} ({v})" for k, v in self.skipped.items())
        return text


def _relations(manifest_path: Path) -> tuple[dict[str, str], dict[str, Any]]:
    manifest = json.loads(manifest_path.read_text())
    models = {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["package_name"] == "microseg"
    }
    return {name: f"{node['schema']}.{node['alias']}" for name, node in models.items()}, models


def train(warehouse: Warehouse, manifest_path: Path) -> TrainingReport:
    """Fit what is due on the tables of the build whose manifest is given; append the new
    versions to the registry and replace the quality rows."""
    started = time.perf_counter()
    relations, models = _relations(manifest_path)
    settings = Settings.for_run(
        models["int_ml_models"]["config"]["ml_settings"],
        warehouse.frame(f"select * from {relations['int_segment_catalogue_rendered']}"),
    )
    schema = warehouse.target.layer("ml")
    previous = warehouse.frame(f"select * from {schema}.{REGISTRY_TABLE}")
    earlier = None if previous.empty else previous
    clock = warehouse.frame(
        f"select max(features_as_of) as features_as_of from {relations['int_person_features']}"
    )["features_as_of"].dropna()
    report = TrainingReport()
    if nothing_due(earlier, clock, settings):
        report.nothing_due = True
        report.seconds = time.perf_counter() - started
        return report
    snapshots = warehouse.frame(f"select * from {relations['int_person_features_at_cutoffs']}")
    columns = ", ".join(person_columns(settings))
    features = warehouse.frame(f"select {columns} from {relations['int_person_features']}")
    seeds = warehouse.frame(f"select * from {relations['int_lookalike_seeds_selected']}")
    added = train_models(snapshots, features, seeds, settings, earlier)
    registry = pd.concat([previous, added], ignore_index=True) if earlier is not None else added
    statuses = model_statuses(registry, snapshots, features, seeds, settings)
    quality = quality_rows(registry, statuses)
    warehouse.begin()
    try:
        _insert(warehouse, f"{schema}.{REGISTRY_TABLE}", added, MODEL_COLUMNS)
        warehouse.execute(f"delete from {schema}.{QUALITY_TABLE}")
        _insert(warehouse, f"{schema}.{QUALITY_TABLE}", quality, QUALITY_COLUMNS)
        warehouse.commit()
    except Exception:
        warehouse.rollback()
        raise
    report.trained = list(added["model_version"])
    report.skipped = {
        row.model_name: row.reason for row in statuses.itertuples() if row.status == "skipped"
    }
    report.seconds = time.perf_counter() - started
    return report


def _plain(value: Any) -> Any:
    """A value the drivers bind: no NaN, NA or numpy scalars."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def _insert(warehouse: Warehouse, table: str, frame: pd.DataFrame, columns: tuple) -> None:
    """Rows in statements of at most 200 rows each (one round trip per statement)."""
    rows = [[_plain(value) for value in row] for row in frame[list(columns)].itertuples(False)]
    placeholders = "(" + ", ".join("?" for _ in columns) + ")"
    for start in range(0, len(rows), 200):
        chunk = rows[start : start + 200]
        warehouse.execute(
            f"insert into {table} ({', '.join(columns)}) values "
            + ", ".join(placeholders for _ in chunk),
            [value for row in chunk for value in row],
        )
