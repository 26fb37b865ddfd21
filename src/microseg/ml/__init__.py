"""Machine-learned segments: K-means clusters, purchase and churn propensity, lookalikes.

The dbt Python models in models/intermediate/ml/fitted are thin wrappers around these
functions (`from microseg import ml`). Fitted models are stored as JSON (scaler, centroids,
coefficients) in `int_ml_models`, so scoring needs numpy only and a stored model can be
inspected, reused and compared across runs.

settings: what the dbt vars say; features: scaling and samples; clustering, propensity and
lookalikes: the three kinds of model; registry: training and model versions; scoring.
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
from microseg.ml.lookalikes import (
    LOOKALIKE_NEIGHBOURS,
    MAX_LOOKALIKE_SEEDS,
    lookalike_skip_reason,
    rank_lookalikes,
)
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
    to_pandas,
)

__all__ = [
    "BASELINE_FEATURE",
    "CLUSTER_LABELS",
    "LOOKALIKE_NEIGHBOURS",
    "MAX_LOOKALIKE_SEEDS",
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
    "to_pandas",
    "train_models",
]
