"""What the dbt vars say about the models (Settings, LabelThresholds), and reading relations."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

CLUSTER_LABELS = ("highly_engaged", "casual", "churning", "inactive")


@dataclass(frozen=True)
class LabelThresholds:
    """When a cluster may carry a label: the label's defining property, in absolute terms,
    on the cluster's mean profile (days idle = days since last seen, events in the last 30
    days, events 31-90 days ago). The one home of these thresholds."""

    # highly_engaged and casual are active now: seen within this many days.
    active_max_days_idle: float = 30.0
    # highly_engaged: events in the last 30 days at least this many times the median
    # person's, and at least engaged_min_events_30d (so never with none).
    engaged_min_ratio_to_median: float = 2.0
    engaged_min_events_30d: float = 4.0
    # churning: at least this share of the 90-day events older than 30 days (a steady
    # pace gives 2/3; 0.75 is the last 30 days at 2/3 of the pace of the 60 before), idle
    # longer than churning_min_days_idle, and not yet inactive.
    churning_min_earlier_share: float = 0.75
    churning_min_days_idle: float = 14.0
    # inactive: idle longer than this.
    inactive_min_days_idle: float = 60.0


@dataclass(frozen=True)
class Settings:
    """What the dbt vars say; int_ml_models carries them as one JSON config value."""

    random_seed: int
    fit_sample_size: int
    retrain_after_days: int
    min_interactions: int
    cluster_features: list[str]
    cluster_k_range: list[int]
    cluster_pca_components: int
    prediction_window_days: int
    cluster_labels: list[str] = field(default_factory=lambda: list(CLUSTER_LABELS))
    lookalikes: list[dict[str, Any]] = field(default_factory=list)
    label_thresholds: LabelThresholds = field(default_factory=LabelThresholds)

    @classmethod
    def from_json(cls, text: str) -> Settings:
        values = json.loads(text)
        unknown = set(values.get("cluster_labels", [])) - set(CLUSTER_LABELS)
        if unknown:
            raise ValueError(f"unknown cluster labels {sorted(unknown)}; known: {CLUSTER_LABELS}")
        if "label_thresholds" in values:
            values["label_thresholds"] = LabelThresholds(**values["label_thresholds"])
        return cls(**values)

    @classmethod
    def for_run(cls, settings_json: str, catalogue: pd.DataFrame) -> Settings:
        """The settings of a training: int_ml_models' `ml_settings` config plus the cluster
        labels and lookalikes of the segment catalogue (int_segment_catalogue_rendered, as
        a frame), both in priority order."""

        def present(value: Any) -> Any:
            missing = value is None or (isinstance(value, float) and math.isnan(value))
            return None if missing else value

        rows = sorted(catalogue.to_dict("records"), key=lambda row: row["priority"])
        lookalikes = [
            {
                "key": row["segment_key"],
                "seed_segment": row["seed_segment_key"],
                "top_percent": present(row["top_percent"]),
                "top_n": None if present(row["top_n"]) is None else int(row["top_n"]),
            }
            for row in rows
            if row["origin"] == "lookalike"
        ]
        labels = [row["cluster_label"] for row in rows if row["origin"] == "cluster"]
        catalogued = {"cluster_labels": labels, "lookalikes": lookalikes}
        return cls.from_json(json.dumps(json.loads(settings_json) | catalogued))


# The columns of int_person_features the models read besides settings.cluster_features.
PERSON_COLUMNS = (
    "person_key", "features_as_of", "interactions", "events_7d", "events_30d", "events_90d",
    "sessions_30d", "sessions_90d", "content_interactions_90d", "purchases", "purchases_90d",
    "days_since_last_purchase", "revenue_90d", "days_since_last_seen",
)  # fmt: skip


def person_columns(settings: Settings) -> list[str]:
    """What the models read of int_person_features: converting its ~85 columns to pandas
    took 3 s per model at 10M events, these ~20 a tenth of it."""
    return list(dict.fromkeys([*PERSON_COLUMNS, *settings.cluster_features]))
