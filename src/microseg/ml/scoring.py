"""Scoring persons with the latest stored models."""

from __future__ import annotations

import json

import pandas as pd

from microseg.ml.clustering import ClusterModel, clusterable
from microseg.ml.propensity import TARGETS, PropensityModel
from microseg.ml.registry import latest_models
from microseg.ml.settings import Settings


def _percentile(scores: pd.Series) -> pd.Series:
    return (scores.rank(pct=True, method="average") * 100).round(2)


SCORE_COLUMNS = {
    "cluster_id": "Int64",
    "cluster_label": "string",
    "distance_to_centroid": "float64",
    "cluster_model_version": "string",
    **{
        column.format(name=name): dtype
        for name in TARGETS
        for column, dtype in (
            ("{name}", "float64"),
            ("{name}_percentile", "float64"),
            ("{name}_model_version", "string"),
        )
    },
}


def score_persons(
    registry: pd.DataFrame, snapshots: pd.DataFrame, features: pd.DataFrame, settings: Settings
) -> pd.DataFrame:
    """Every person's cluster and propensity scores from the latest stored models; empty
    columns for a model that was never trained."""
    models = latest_models(registry)
    scored = features[["person_key", "features_as_of"]].rename(
        columns={"features_as_of": "scored_at"}
    )
    if (segmentation := models.get("segmentation")) is not None:
        cluster_model = ClusterModel.from_dict(json.loads(segmentation["parameters_json"]))
        eligible = clusterable(features, settings)
        ids, distances = cluster_model.assign(eligible)
        clusters = pd.DataFrame(
            {
                "person_key": eligible["person_key"],
                "cluster_id": ids + 1,
                "cluster_label": [cluster_model.labels[index] for index in ids],
                "distance_to_centroid": distances.round(6),
                "cluster_model_version": segmentation["model_version"],
            }
        )
        scored = scored.merge(clusters, on="person_key", how="left")
    for name, target in TARGETS.items():
        if (entry := models.get(name)) is None:
            continue
        rows = target.rows(snapshots, "score")
        model = PropensityModel.from_dict(json.loads(entry["parameters_json"]))
        scores = pd.Series(model.score(rows).round(6), index=rows.index)
        frame = pd.DataFrame(
            {
                "person_key": rows["person_key"],
                name: scores,
                f"{name}_percentile": _percentile(scores),
                f"{name}_model_version": entry["model_version"],
            }
        )
        scored = scored.merge(frame, on="person_key", how="left")
    scored = scored.reindex(columns=["person_key", "scored_at", *SCORE_COLUMNS])
    return scored.astype(SCORE_COLUMNS).sort_values("person_key").reset_index(drop=True)
