"""Training and the model registry: which version is in use, why a model was skipped,
and its quality metrics as rows."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from microseg.ml.clustering import clusterable, fit_clusters, segmentation_skip_reason
from microseg.ml.lookalikes import fit_lookalike, lookalike_skip_reason
from microseg.ml.propensity import TARGETS, fit_and_evaluate_propensity
from microseg.ml.settings import Settings

MODEL_COLUMNS = (
    "model_version",
    "model_name",
    "model_kind",
    "trained_at",
    "training_rows",
    "parameters_json",
    "metrics_json",
)


def _version(name: str, trained_at: datetime, parameters: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(parameters, sort_keys=True).encode()).hexdigest()[:8]
    return f"{name}@{trained_at:%Y%m%dT%H%M%S}-{digest}"


def _is_fresh(
    previous: pd.DataFrame | None,
    name: str,
    trained_at: datetime,
    days: int,
    seed_segment: str | None = None,
) -> bool:
    """Whether the latest version of `name` is younger than `days` (and, for a lookalike,
    was fitted on the same seed segment)."""
    if previous is None or days <= 0:
        return False
    earlier = previous[previous["model_name"] == name]
    if earlier.empty:
        return False
    latest = earlier.sort_values(["trained_at", "model_version"]).iloc[-1]
    seed_changed = (
        seed_segment is not None
        and json.loads(latest["parameters_json"]).get("seed_segment") != seed_segment
    )
    if seed_changed:
        return False
    return pd.Timestamp(latest["trained_at"]) > pd.Timestamp(trained_at) - timedelta(days)


def _model_names(settings: Settings) -> list[tuple[str, str | None]]:
    """Every model the settings ask for: (name, the seed segment of a lookalike)."""
    return [
        ("segmentation", None),
        *((name, None) for name in TARGETS),
        *((lookalike["key"], lookalike["seed_segment"]) for lookalike in settings.lookalikes),
    ]


def nothing_due(
    previous: pd.DataFrame | None, features_as_of: pd.Series, settings: Settings
) -> bool:
    """Whether every model has a version younger than settings.retrain_after_days at this
    clock, so that training need not even read its inputs."""
    if previous is None or features_as_of.empty:
        return False
    trained_at = pd.Timestamp(features_as_of.max()).to_pydatetime()
    return all(
        _is_fresh(previous, name, trained_at, settings.retrain_after_days, seed)
        for name, seed in _model_names(settings)
    )


def train_models(
    snapshots: pd.DataFrame,
    features: pd.DataFrame,
    seeds: pd.DataFrame,
    settings: Settings,
    previous: pd.DataFrame | None,
) -> pd.DataFrame:
    """One registry row per model trained now; none for a model still fresh enough, already
    registered or without the data it needs (model_statuses says why)."""
    trained_at = pd.Timestamp(features["features_as_of"].max()).to_pydatetime()
    rows = []
    stale = not _is_fresh(previous, "segmentation", trained_at, settings.retrain_after_days)
    if stale and segmentation_skip_reason(features, settings) is None:
        cluster_model, metrics, fitted = fit_clusters(features, settings)
        rows.append(("segmentation", "kmeans", asdict(cluster_model), metrics, fitted))
    for name, target in TARGETS.items():
        stale = not _is_fresh(previous, name, trained_at, settings.retrain_after_days)
        if stale and target.skip_reason(snapshots, settings.prediction_window_days) is None:
            model, metrics, fitted = fit_and_evaluate_propensity(snapshots, target, settings)
            rows.append((name, "logistic_regression", asdict(model), metrics, fitted))
    persons = clusterable(features, settings)
    for lookalike in settings.lookalikes:
        key, seed = lookalike["key"], lookalike["seed_segment"]
        stale = not _is_fresh(previous, key, trained_at, settings.retrain_after_days, seed)
        if stale and lookalike_skip_reason(persons, seeds, lookalike, settings) is None:
            parameters, metrics, fitted = fit_lookalike(persons, seeds, lookalike, settings)
            rows.append((key, "logistic_regression", parameters, metrics, fitted))
    registry = pd.DataFrame(
        [
            {
                "model_version": _version(name, trained_at, parameters),
                "model_name": name,
                "model_kind": kind,
                "trained_at": trained_at,
                "training_rows": fitted,
                "parameters_json": json.dumps(parameters),
                "metrics_json": json.dumps(metrics),
            }
            for name, kind, parameters, metrics, fitted in rows
        ],
        columns=list(MODEL_COLUMNS),
    )
    if previous is not None:
        # The same parameters at the same clock are the same version: a rerun adds nothing.
        registry = registry[~registry["model_version"].isin(previous["model_version"])]
    text_columns = ("model_version", "model_name", "model_kind", "parameters_json", "metrics_json")
    return registry.astype(
        {"training_rows": "int64", "trained_at": "datetime64[us]"}
        | dict.fromkeys(text_columns, "string")
    )


def latest_models(registry: pd.DataFrame) -> dict[str, pd.Series]:
    ordered = registry.sort_values(["trained_at", "model_version"])
    return {name: rows.iloc[-1] for name, rows in ordered.groupby("model_name")}


def model_statuses(
    registry: pd.DataFrame,
    snapshots: pd.DataFrame,
    features: pd.DataFrame,
    seeds: pd.DataFrame,
    settings: Settings,
) -> pd.DataFrame:
    """One row per model (segmentation, each propensity target, each lookalike): the
    version in use, status trained or skipped, and why it was skipped in words. A model
    that cannot be retrained on this data but has an earlier version in use stays
    `trained`, with the reason it was not retrained."""
    latest = latest_models(registry)
    persons = clusterable(features, settings)
    reasons = (
        {"segmentation": segmentation_skip_reason(features, settings)}
        | {
            name: target.skip_reason(snapshots, settings.prediction_window_days)
            for name, target in TARGETS.items()
        }
        | {
            lookalike["key"]: lookalike_skip_reason(persons, seeds, lookalike, settings)
            for lookalike in settings.lookalikes
        }
    )
    rows: list[tuple[str, str | None, str, str | None]] = []
    for name, reason in reasons.items():
        entry = latest.get(name)
        if entry is None:
            rows.append((name, None, "skipped", reason or "no version was trained"))
        else:
            kept = None if reason is None else f"not retrained on this data: {reason}"
            rows.append((name, entry["model_version"], "trained", kept))
    return pd.DataFrame(rows, columns=["model_name", "model_version", "status", "reason"])


def _metric_rows(metrics: dict[str, Any]) -> list[tuple[str, str, str, float]]:
    """(group, item, metric, value) for a model's metrics_json."""
    rows = [
        ("summary", "model", metric, float(value))
        for metric, value in metrics.items()
        if isinstance(value, (int, float))
    ]
    rows += [
        ("k_selection", f"k={candidate['k']}", metric, float(value))
        for candidate in metrics.get("k_candidates", [])
        for metric, value in candidate.items()
        if metric != "k"
    ]
    rows += [
        ("calibration", f"decile {int(decile['decile']):02d}", metric, float(decile[metric]))
        for decile in metrics.get("calibration", [])
        for metric in ("rows", "predicted", "observed")
    ]
    rows += [
        ("feature_weights", feature, "coefficient", float(weight))
        for feature, weight in metrics.get("feature_weights", {}).items()
    ]
    return rows


def quality_rows(registry: pd.DataFrame, statuses: pd.DataFrame | None = None) -> pd.DataFrame:
    """The latest models' metrics as long rows: one per model, group, item and metric, each
    with its model's status; plus, from `statuses` (model_statuses), one `status` row per
    model (metric is_trained, 1 or 0) carrying the reason a model was skipped."""
    latest = latest_models(registry)
    if statuses is not None:  # only the models the settings still ask for
        latest = {name: entry for name, entry in latest.items() if name in set(statuses.model_name)}
    rows = [
        (entry["model_version"], name, *row, "trained", None)
        for name, entry in latest.items()
        for row in _metric_rows(json.loads(entry["metrics_json"]))
    ]
    for status in (statuses if statuses is not None else pd.DataFrame()).itertuples():
        trained = status.status == "trained"
        rows.append(
            (
                status.model_version,
                status.model_name,
                "status",
                "model",
                "is_trained",
                1.0 if trained else 0.0,
                status.status,
                status.reason,
            )
        )
    columns = [
        "model_version", "model_name", "metric_group", "item", "metric", "value", "status",
        "reason",
    ]  # fmt: skip
    quality = pd.DataFrame(rows, columns=columns)
    # A skipped model has no version: its rows are keyed by its name.
    key = quality["model_version"].fillna(quality["model_name"])
    for column in ("metric_group", "item", "metric"):
        key = key + "|" + quality[column]
    quality.insert(0, "quality_metric_id", key)
    text = [column for column in quality.columns if column != "value"]
    return quality.astype(dict.fromkeys(text, "string") | {"value": "float64"})
