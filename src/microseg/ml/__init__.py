"""Machine-learned segments: K-means clusters, purchase and churn propensity, lookalikes.

`microseg train` (training) fits them in Python on a sample of the persons and stores them
as JSON (scaler, centroids, coefficients) in the warehouse's registry; every warehouse then
scores them in plain SQL from those parameters (models/intermediate/ml/fitted). The Python
scoring here (scoring, rank_lookalikes) is the reference the tests hold the SQL to.

settings: what the dbt vars say; features: scaling and samples; clustering, propensity and
lookalikes: the three kinds of model; registry: training and model versions; scoring;
training: reading a build and writing the registry.
"""

from microseg.ml.clustering import (
    MIN_CLUSTERED_PERSONS,
    NEUTRAL_CLUSTER_PREFIX,
    SILHOUETTE_SAMPLE,
    ClusterModel,
    cluster_profiles,
    clusterable,
    fit_clusters,
    label_clusters,
    label_properties,
    segmentation_skip_reason,
)
from microseg.ml.features import NEVER_DAYS, Scaler
from microseg.ml.lookalikes import fit_lookalike, lookalike_skip_reason, rank_lookalikes
from microseg.ml.propensity import (
    BASELINE_FEATURE,
    MIN_ROWS_PER_CLASS,
    PROPENSITY_FEATURES,
    TARGETS,
    PropensityModel,
    Target,
    evaluate_propensity,
    fit_and_evaluate_propensity,
    fit_propensity,
    history_days,
)
from microseg.ml.registry import (
    MODEL_COLUMNS,
    latest_models,
    model_statuses,
    nothing_due,
    quality_rows,
    train_models,
)
from microseg.ml.scoring import SCORE_COLUMNS, score_persons
from microseg.ml.settings import (
    CLUSTER_LABELS,
    LabelThresholds,
    Settings,
    person_columns,
)

__all__ = [
    "BASELINE_FEATURE",
    "CLUSTER_LABELS",
    "MIN_CLUSTERED_PERSONS",
    "MIN_ROWS_PER_CLASS",
    "MODEL_COLUMNS",
    "NEUTRAL_CLUSTER_PREFIX",
    "NEVER_DAYS",
    "PROPENSITY_FEATURES",
    "SCORE_COLUMNS",
    "SILHOUETTE_SAMPLE",
    "TARGETS",
    "ClusterModel",
    "LabelThresholds",
    "PropensityModel",
    "Scaler",
    "Settings",
    "Target",
    "cluster_profiles",
    "clusterable",
    "evaluate_propensity",
    "fit_and_evaluate_propensity",
    "fit_clusters",
    "fit_lookalike",
    "fit_propensity",
    "history_days",
    "label_clusters",
    "label_properties",
    "latest_models",
    "lookalike_skip_reason",
    "model_statuses",
    "nothing_due",
    "person_columns",
    "quality_rows",
    "rank_lookalikes",
    "score_persons",
    "segmentation_skip_reason",
    "train_models",
]
