"""Machine-learned segments: K-means clusters, purchase and churn propensity, lookalikes.

The dbt Python models in models/marts/ml are thin wrappers around these functions. Fitted
models are stored as JSON (scaler, centroids, coefficients) in `dim_ml_models`, so scoring
needs numpy only and a stored model can be inspected, reused and compared across runs.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    davies_bouldin_score,
    roc_auc_score,
    silhouette_score,
)
from sklearn.neighbors import NearestNeighbors

# Columns of int_person_features_at_cutoffs the propensity models read.
PROPENSITY_FEATURES = (
    "days_since_last_event",
    "days_since_first_event",
    "events_7d",
    "events_30d",
    "events_90d",
    "sessions_30d",
    "sessions_90d",
    "active_days_30d",
    "active_days_90d",
    "product_views_90d",
    "cart_adds_90d",
    "searches_90d",
    "content_interactions_90d",
    "email_opens_90d",
    "email_clicks_90d",
    "categories_90d",
    "purchases",
    "purchases_90d",
    "revenue",
    "revenue_90d",
    "days_since_last_purchase",
    "weekend_event_share_90d",
)
# Ranks persons for the baseline every propensity model must beat: recency alone.
BASELINE_FEATURE = "days_since_last_event"
# Missing "days since" values (never happened) count as this many days.
NEVER_DAYS = 3650.0
SILHOUETTE_SAMPLE = 5000
# Below these a model is not trained (too little data); its scores stay empty.
MIN_CLUSTERED_PERSONS = 100
MIN_ROWS_PER_CLASS = 10
# Lookalikes compare candidates with at most this many seed members (a seeded sample).
MAX_LOOKALIKE_SEEDS = 5000
LOOKALIKE_NEIGHBOURS = 10
CLUSTER_LABELS = ("highly_engaged", "casual", "churning", "inactive")
# A cluster none of whose label properties hold is named cluster_<cluster_id>.
NEUTRAL_CLUSTER_PREFIX = "cluster_"
MODEL_COLUMNS = (
    "model_version",
    "model_name",
    "model_kind",
    "trained_at",
    "training_rows",
    "parameters_json",
    "metrics_json",
)


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
    """What the dbt vars say; passed to the Python models as one JSON config value."""

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


def to_pandas(relation: Any) -> pd.DataFrame:
    """A dbt relation or query result as pandas, on DuckDB (.df) or Snowpark (.to_pandas)."""
    frame = relation.to_pandas() if hasattr(relation, "to_pandas") else relation.df()
    frame.columns = [str(column).lower() for column in frame.columns]
    return frame


# --- Preparing features ---------------------------------------------------------------


@dataclass
class Scaler:
    """log1p of non-negative columns, then robust scaling: (x - median) / IQR."""

    columns: list[str]
    center: list[float]
    scale: list[float]

    @classmethod
    def fit(cls, frame: pd.DataFrame, columns: list[str]) -> Scaler:
        values = _raw_matrix(frame, columns)
        q25, median, q75 = np.percentile(values, [25, 50, 75], axis=0)
        spread = q75 - q25
        std = values.std(axis=0)
        scale = np.where(spread > 0, spread, np.where(std > 0, std, 1.0))
        return cls(list(columns), median.tolist(), scale.tolist())

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        values = _raw_matrix(frame, self.columns)
        return (values - np.array(self.center)) / np.array(self.scale)


def _raw_matrix(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    filled = {}
    for column in columns:
        values = pd.to_numeric(frame[column], errors="coerce").astype(float)
        missing = NEVER_DAYS if column.startswith("days_since") else 0.0
        filled[column] = values.fillna(missing).clip(lower=0)
    return np.log1p(pd.DataFrame(filled).to_numpy())


def _sample(n_rows: int, size: int, seed: int) -> np.ndarray:
    if n_rows <= size:
        return np.arange(n_rows)
    return np.sort(np.random.default_rng(seed).choice(n_rows, size=size, replace=False))


def _version(name: str, trained_at: datetime, parameters: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(parameters, sort_keys=True).encode()).hexdigest()[:8]
    return f"{name}@{trained_at:%Y%m%dT%H%M%S}-{digest}"


# --- Clustering -------------------------------------------------------------------------


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


# --- Propensity -------------------------------------------------------------------------


@dataclass
class PropensityModel:
    scaler: Scaler
    coefficients: list[float]
    intercept: float

    def score(self, frame: pd.DataFrame) -> np.ndarray:
        logits = self.scaler.transform(frame) @ np.array(self.coefficients) + self.intercept
        return 1 / (1 + np.exp(-logits))

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> PropensityModel:
        return cls(**{**values, "scaler": Scaler(**values["scaler"])})


def fit_propensity(rows: pd.DataFrame, label: pd.Series, seed: int) -> PropensityModel:
    """Logistic regression on scaled features (L2, lbfgs)."""
    scaler = Scaler.fit(rows, list(PROPENSITY_FEATURES))
    # Robust-scaled log counts can still be large; standardise them for the solver.
    points = scaler.transform(rows)
    std = points.std(axis=0)
    std[std == 0] = 1
    scaler.scale = (np.array(scaler.scale) * std).tolist()
    regression = LogisticRegression(C=1.0, max_iter=2000, random_state=seed)
    regression.fit(scaler.transform(rows), label.to_numpy())
    return PropensityModel(scaler, regression.coef_[0].tolist(), float(regression.intercept_[0]))


def evaluate_propensity(
    model: PropensityModel, rows: pd.DataFrame, label: pd.Series, baseline_higher_is_likelier: bool
) -> dict[str, Any]:
    """Quality on held-out time: ROC-AUC against a recency-only baseline, precision at
    the top decile, calibration by score decile and feature weights."""
    truth = label.to_numpy().astype(int)
    scores = model.score(rows)
    recency = rows[BASELINE_FEATURE].astype(float).to_numpy()
    baseline = recency if baseline_higher_is_likelier else -recency
    deciles = pd.qcut(pd.Series(scores).rank(method="first"), 10, labels=False)
    calibration = (
        pd.DataFrame({"decile": deciles + 1, "predicted": scores, "observed": truth})
        .groupby("decile")
        .agg(
            rows=("observed", "size"),
            predicted=("predicted", "mean"),
            observed=("observed", "mean"),
        )
        .reset_index()
    )
    top = deciles == 9
    return {
        "roc_auc": float(roc_auc_score(truth, scores)),
        "baseline_roc_auc": float(roc_auc_score(truth, baseline)),
        "precision_at_top_decile": float(truth[top.to_numpy()].mean()),
        "positive_rate": float(truth.mean()),
        "evaluation_rows": len(truth),
        "calibration": calibration.to_dict(orient="records"),
        "feature_weights": dict(
            sorted(
                zip(model.scaler.columns, model.coefficients, strict=True),
                key=lambda item: -abs(item[1]),
            )
        ),
    }


@dataclass(frozen=True)
class Target:
    """What a propensity model predicts, for whom, and how its recency baseline ranks."""

    label: str  # a boolean column of int_person_features_at_cutoffs
    positive: bool  # predicts label = positive
    recently_active_only: bool  # only persons with events in the 90 days before the clock
    baseline_higher_is_likelier: bool  # longer since the last event = likelier outcome
    outcome_words: tuple[str, str] = ("had the outcome", "did not")  # (positive, negative)

    def rows(self, snapshots: pd.DataFrame, snapshot: str) -> pd.DataFrame:
        rows = snapshots[snapshots["snapshot"] == snapshot]
        if self.recently_active_only:
            rows = rows[rows["events_90d"] > 0]
        return rows.sort_values("person_key").reset_index(drop=True)

    def outcome(self, rows: pd.DataFrame) -> pd.Series:
        return rows[self.label].astype(bool) == self.positive

    def skip_reason(self, snapshots: pd.DataFrame, window_days: int) -> str | None:
        """Why the model cannot be fitted and evaluated, in words; None when it can: it
        needs two prediction windows of history, and both outcomes at least
        MIN_ROWS_PER_CLASS times in `train` and in `holdout`."""
        history = history_days(snapshots)
        if history < 2 * window_days:
            return (
                f"needs 2 windows of {window_days} days of history before the clock "
                f"(train and holdout), the data has {history:.1f} days"
            )
        yes, no = self.outcome_words
        for snapshot in ("train", "holdout"):
            counts = self.outcome(self.rows(snapshots, snapshot)).value_counts()
            positives, negatives = int(counts.get(True, 0)), int(counts.get(False, 0))
            if positives and negatives and min(positives, negatives) >= MIN_ROWS_PER_CLASS:
                continue
            if not positives and not negatives:
                return f"no persons to learn from in the {snapshot} window"
            if not positives or not negatives:
                return (
                    f"a single class in the {snapshot} window: all {positives + negatives} "
                    f"persons {yes if positives else no}"
                )
            return (
                f"too few persons of one class in the {snapshot} window: {positives} "
                f"{yes} and {negatives} {no}, needs at least {MIN_ROWS_PER_CLASS} of each"
            )
        return None


def history_days(snapshots: pd.DataFrame) -> float:
    """Days from the first event to the as-of clock (the `score` rows), 0 without events."""
    score = snapshots[snapshots["snapshot"] == "score"]
    if score.empty:
        return 0.0
    first = pd.to_datetime(score["first_event_at"]).min()
    clock = pd.to_datetime(score["feature_clock"]).max()
    return max((clock - first).total_seconds() / 86400, 0.0)


TARGETS = {
    "purchase_propensity": Target(
        "purchased_in_window", True, False, False, ("bought", "did not buy")
    ),
    "churn_risk": Target(
        "is_active_in_window", False, True, True, ("had no activity", "stayed active")
    ),
}


def fit_and_evaluate_propensity(
    snapshots: pd.DataFrame, target: Target, settings: Settings
) -> tuple[PropensityModel, dict[str, Any], int]:
    """Backtest on time (fit on `train`, evaluate on `holdout`), then refit on `holdout`,
    whose labels end at the as-of clock, for scoring."""
    seed = settings.random_seed
    train = target.rows(snapshots, "train")
    holdout = target.rows(snapshots, "holdout")
    train = train.iloc[_sample(len(train), settings.fit_sample_size, seed)]
    backtest = fit_propensity(train, target.outcome(train), seed)
    metrics = evaluate_propensity(
        backtest, holdout, target.outcome(holdout), target.baseline_higher_is_likelier
    )
    metrics["training_clock"] = str(train["feature_clock"].iloc[0])
    metrics["evaluation_clock"] = str(holdout["feature_clock"].iloc[0])
    refit_rows = holdout.iloc[_sample(len(holdout), settings.fit_sample_size, seed)]
    model = fit_propensity(refit_rows, target.outcome(refit_rows), seed)
    return model, metrics, len(refit_rows)


# --- Training and the model registry ----------------------------------------------------


def _is_fresh(previous: pd.DataFrame | None, name: str, trained_at: datetime, days: int) -> bool:
    if previous is None or days <= 0:
        return False
    earlier = previous[previous["model_name"] == name]
    if earlier.empty:
        return False
    return pd.Timestamp(earlier["trained_at"].max()) > pd.Timestamp(trained_at) - timedelta(days)


def train_models(
    snapshots: pd.DataFrame,
    features: pd.DataFrame,
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


# --- Scoring ----------------------------------------------------------------------------


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


def rank_lookalikes(
    features: pd.DataFrame, seeds: pd.DataFrame, settings: Settings
) -> pd.DataFrame:
    """For each configured lookalike, rank non-members of its seed segment by similarity:
    1 / (1 + mean distance to the 10 nearest seed members) in the clustering feature
    space. Large seeds are represented by a seeded sample of MAX_LOOKALIKE_SEEDS members."""
    candidates_all = clusterable(features, settings)
    frames = []
    for lookalike in settings.lookalikes:
        seed_rows, candidates = _lookalike_split(candidates_all, seeds, lookalike["key"])
        if lookalike_skip_reason(candidates_all, seeds, lookalike, settings) is not None:
            continue
        scaler = Scaler.fit(candidates_all, settings.cluster_features)
        sample = seed_rows.iloc[_sample(len(seed_rows), MAX_LOOKALIKE_SEEDS, settings.random_seed)]
        neighbours = NearestNeighbors(
            n_neighbors=min(LOOKALIKE_NEIGHBOURS, len(sample)), n_jobs=-1
        ).fit(scaler.transform(sample))
        distances, _ = neighbours.kneighbors(scaler.transform(candidates))
        similarity = 1 / (1 + distances.mean(axis=1))
        ranked = pd.DataFrame(
            {
                "lookalike_key": lookalike["key"],
                "person_key": candidates["person_key"].to_numpy(),
                "similarity": similarity.round(6),
            }
        ).sort_values(["similarity", "person_key"], ascending=[False, True])
        ranked["similarity_rank"] = np.arange(1, len(ranked) + 1)
        top_n = lookalike.get("top_n") or int(len(ranked) * lookalike["top_percent"] / 100)
        ranked["is_selected"] = ranked["similarity_rank"] <= top_n
        ranked["seed_size"] = len(seed_rows)
        ranked.insert(0, "lookalike_id", ranked["lookalike_key"] + "|" + ranked["person_key"])
        frames.append(ranked)
    dtypes = {
        "lookalike_id": "string",
        "lookalike_key": "string",
        "person_key": "string",
        "similarity": "float64",
        "similarity_rank": "int64",
        "is_selected": "bool",
        "seed_size": "int64",
    }
    result = pd.concat(frames) if frames else pd.DataFrame(columns=list(dtypes))
    return result[list(dtypes)].astype(dtypes).reset_index(drop=True)


def _lookalike_split(
    persons: pd.DataFrame, seeds: pd.DataFrame, key: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    seed_keys = set(seeds.loc[seeds["lookalike_key"] == key, "person_key"])
    is_seed = persons["person_key"].isin(seed_keys)
    return persons[is_seed], persons[~is_seed]


def lookalike_skip_reason(
    persons: pd.DataFrame, seeds: pd.DataFrame, lookalike: dict[str, Any], settings: Settings
) -> str | None:
    """Why a lookalike cannot be ranked (`persons`: the clusterable ones), in words; None
    when it can."""
    seed_rows, candidates = _lookalike_split(persons, seeds, lookalike["key"])
    enough = f"at least {settings.min_interactions} interactions"
    if seed_rows.empty:
        return (
            f"the seed segment {lookalike['seed_segment']} has no member with {enough} "
            f"(among {len(persons)} such persons)"
        )
    if candidates.empty:
        return f"every person with {enough} is in the seed segment {lookalike['seed_segment']}"
    return None


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
    reasons = {"segmentation": segmentation_skip_reason(features, settings)} | {
        name: target.skip_reason(snapshots, settings.prediction_window_days)
        for name, target in TARGETS.items()
    }
    rows = []
    for name, reason in reasons.items():
        entry = latest.get(name)
        if entry is None:
            rows.append((name, None, "skipped", reason or "no version was trained"))
        else:
            kept = None if reason is None else f"not retrained on this data: {reason}"
            rows.append((name, entry["model_version"], "trained", kept))
    persons = clusterable(features, settings)
    for lookalike in settings.lookalikes:
        reason = lookalike_skip_reason(persons, seeds, lookalike, settings)
        rows.append((lookalike["key"], None, "skipped" if reason else "trained", reason))
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
