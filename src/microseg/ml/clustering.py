"""K-means clusters of persons, chosen by silhouette, and their labels."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import davies_bouldin_score, silhouette_score

from microseg.ml.features import NEVER_DAYS, Scaler, _raw_matrix, _sample
from microseg.ml.settings import LabelThresholds, Settings

SILHOUETTE_SAMPLE = 5000
# Below these a model is not trained (too little data); its scores stay empty.
MIN_CLUSTERED_PERSONS = 100
# A cluster none of whose label properties hold is named cluster_<cluster_id>.
NEUTRAL_CLUSTER_PREFIX = "cluster_"


@dataclass
class ClusterModel:
    scaler: Scaler
    pca_mean: list[float] | None
    pca_components: list[list[float]] | None
    centroids: list[list[float]]
    labels: list[str]

    def project(self, frame: pd.DataFrame) -> np.ndarray:
        scaled = self.scaler.transform(frame)
        if self.pca_components is None:
            return scaled
        return (scaled - np.array(self.pca_mean)) @ np.array(self.pca_components).T

    def assign(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        points, centroids = self.project(frame), np.array(self.centroids)
        # |x - c|^2 = |x|^2 - 2 x.c + |c|^2, without a persons x clusters x features array.
        squared = (
            (points**2).sum(axis=1)[:, None]
            - 2 * points @ centroids.T
            + (centroids**2).sum(axis=1)[None, :]
        )
        distances = np.sqrt(squared.clip(min=0))
        return distances.argmin(axis=1), distances.min(axis=1)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ClusterModel:
        return cls(**{**values, "scaler": Scaler(**values["scaler"])})


def clusterable(features: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Persons with enough interactions to describe, in person_key order."""
    eligible = features[features["interactions"] >= settings.min_interactions]
    return eligible.sort_values("person_key").reset_index(drop=True)


def _fit_sample(features: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    persons = clusterable(features, settings)
    return persons.iloc[_sample(len(persons), settings.fit_sample_size, settings.random_seed)]


def _smallest_k(settings: Settings) -> int:
    return max(settings.cluster_k_range[0], len(settings.cluster_labels), 2)


def segmentation_skip_reason(features: pd.DataFrame, settings: Settings) -> str | None:
    """Why K-means cannot be fitted on these persons, in words; None when it can."""
    persons = clusterable(features, settings)
    if len(persons) < MIN_CLUSTERED_PERSONS:
        return (
            f"needs {MIN_CLUSTERED_PERSONS} persons with at least {settings.min_interactions} "
            f"interactions, the data has {len(persons)}"
        )
    smallest_k = _smallest_k(settings)
    distinct = _distinct_points(_fit_sample(features, settings), settings)
    if distinct < smallest_k:
        return (
            f"needs at least {smallest_k} distinct feature profiles for k={smallest_k}, "
            f"the {len(persons)} persons have {distinct}"
        )
    return None


def _distinct_points(sample: pd.DataFrame, settings: Settings) -> int:
    return len(np.unique(_raw_matrix(sample, settings.cluster_features), axis=0))


def fit_clusters(
    features: pd.DataFrame, settings: Settings
) -> tuple[ClusterModel, dict[str, Any], int]:
    """K-means on a sample, K chosen by silhouette; returns model, metrics, rows fitted.
    Call only when segmentation_skip_reason is None."""
    sample = _fit_sample(features, settings)
    scaler = Scaler.fit(sample, settings.cluster_features)
    points = scaler.transform(sample)
    pca_mean = pca_components = None
    if settings.cluster_pca_components:
        pca = PCA(settings.cluster_pca_components, random_state=settings.random_seed).fit(points)
        pca_mean, pca_components = pca.mean_.tolist(), pca.components_.tolist()
        points = pca.transform(points)
    # K-means cannot find more clusters than there are distinct points.
    high = min(settings.cluster_k_range[1], _distinct_points(sample, settings))
    candidates = []
    for k in range(_smallest_k(settings), max(high, _smallest_k(settings)) + 1):
        kmeans = KMeans(k, n_init=4, random_state=settings.random_seed).fit(points)
        silhouette = silhouette_score(
            points,
            kmeans.labels_,
            sample_size=min(SILHOUETTE_SAMPLE, len(points)),
            random_state=settings.random_seed,
        )
        candidates.append(
            {
                "k": k,
                "silhouette": float(silhouette),
                "davies_bouldin": float(davies_bouldin_score(points, kmeans.labels_)),
                "within_cluster_sum_of_squares": float(kmeans.inertia_),
                "centroids": kmeans.cluster_centers_.tolist(),
            }
        )
    best = max(candidates, key=lambda candidate: candidate["silhouette"])
    model = ClusterModel(scaler, pca_mean, pca_components, best["centroids"], [])
    ids, _ = model.assign(sample)
    model.labels = label_clusters(
        sample, ids, len(best["centroids"]), settings.cluster_labels, settings.label_thresholds
    )
    metrics = {
        "k": best["k"],
        "silhouette": best["silhouette"],
        "davies_bouldin": best["davies_bouldin"],
        "within_cluster_sum_of_squares": best["within_cluster_sum_of_squares"],
        "k_candidates": [
            {key: value for key, value in candidate.items() if key != "centroids"}
            for candidate in candidates
        ],
    }
    return model, metrics, len(sample)


def cluster_profiles(persons: pd.DataFrame, cluster_ids: np.ndarray, k: int) -> pd.DataFrame:
    """Per cluster (index 0..k-1): mean days idle, events in the last 30 days and events
    31-90 days ago; NaN for a cluster without members."""
    raw = _profile_columns(persons)
    return raw.groupby(cluster_ids).mean().reindex(range(k))


def _profile_columns(persons: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "days_idle": persons["days_since_last_seen"].astype(float).fillna(NEVER_DAYS),
            "events_30d": persons["events_30d"].astype(float),
            "events_31_90d": (persons["events_90d"] - persons["events_30d"]).astype(float),
        }
    )


def label_properties(
    profile: pd.DataFrame, median_events_30d: float, thresholds: LabelThresholds
) -> pd.DataFrame:
    """Per cluster and label: whether the label's defining property holds (LabelThresholds).
    A cluster without members has none."""
    idle, recent, earlier = profile["days_idle"], profile["events_30d"], profile["events_31_90d"]
    events_90d = recent + earlier
    earlier_share = earlier / events_90d.where(events_90d > 0)
    engaged_floor = max(
        thresholds.engaged_min_ratio_to_median * median_events_30d,
        thresholds.engaged_min_events_30d,
    )
    properties = pd.DataFrame(
        {
            "highly_engaged": (recent > 0)
            & (recent >= engaged_floor)
            & (idle <= thresholds.active_max_days_idle),
            "casual": (recent > 0) & (idle <= thresholds.active_max_days_idle),
            "churning": (earlier_share >= thresholds.churning_min_earlier_share)
            & (idle > thresholds.churning_min_days_idle)
            & (idle <= thresholds.inactive_min_days_idle),
            "inactive": idle > thresholds.inactive_min_days_idle,
        }
    )
    return properties.fillna(False).astype(bool)


def label_clusters(
    persons: pd.DataFrame,
    cluster_ids: np.ndarray,
    k: int,
    labels: list[str],
    thresholds: LabelThresholds | None = None,
) -> list[str]:
    """Name clusters from their profiles; a label only where its property holds.

    A label's defining property (label_properties, thresholds in LabelThresholds) must hold
    on the cluster's mean profile; a cluster where none holds is named cluster_<id> (its
    1-based cluster_id), a name no segment reads. In the order of `labels`, each label
    takes as its anchor the best-ranked cluster among those that have its property and
    anchor no earlier label (highly_engaged by recent events, casual by closeness to the
    typical person, churning by the share of the 90-day events before the last 30 days,
    inactive by days idle); every other cluster takes the label of the nearest anchor (log
    profile) whose property it also has. So a label can name several clusters, each of
    which has the property, or none.
    """
    thresholds = thresholds or LabelThresholds()
    raw = _profile_columns(persons)
    profile = raw.groupby(cluster_ids).mean().reindex(range(k))
    holds = label_properties(profile, float(raw["events_30d"].median()), thresholds)[labels]
    filled = profile.fillna(0)
    log_profile = np.log1p(filled.clip(lower=0))
    typical = np.log1p(raw.clip(lower=0)).median()
    recent, earlier = filled["events_30d"], filled["events_31_90d"]
    scorers = {
        "highly_engaged": recent,
        "casual": -(log_profile - typical).abs().sum(axis=1),
        # A steady person has twice as many events in the earlier 60 days as in the last 30.
        "churning": earlier / (earlier + 2 * recent + 1),
        "inactive": filled["days_idle"],
    }
    eligible = holds.to_numpy()
    anchors: list[tuple[int, int]] = []
    for column, label in enumerate(labels):
        free = [
            index
            for index in range(k)
            if eligible[index, column] and index not in {row for row, _ in anchors}
        ]
        if free:
            anchors.append((max(free, key=lambda index: scorers[label].iloc[index]), column))
    names = [f"{NEUTRAL_CLUSTER_PREFIX}{index + 1}" for index in range(k)]
    points = log_profile.to_numpy()
    for index in range(k):
        candidates = [(row, column) for row, column in anchors if eligible[index, column]]
        if candidates:
            nearest = min(
                candidates, key=lambda anchor: np.linalg.norm(points[index] - points[anchor[0]])
            )
            names[index] = labels[nearest[1]]
    return names
