"""The latest models' quality metrics, K selection, calibration and feature weights, and
one status row per model: trained, or skipped with the reason in words."""

from typing import Any

from microseg import ml


def model(dbt: Any, session: Any) -> Any:
    dbt.config(materialized="table", packages=["numpy", "pandas", "scikit-learn", "scipy"])
    settings = ml.Settings.for_run(
        dbt.config.get("ml_settings"), dbt.ref("int_segment_catalogue_rendered")
    )
    registry = ml.to_pandas(dbt.ref("int_ml_models"))
    statuses = ml.model_statuses(
        registry,
        ml.to_pandas(dbt.ref("int_person_features_at_cutoffs")),
        ml.to_pandas(dbt.ref("int_person_features"), ml.person_columns(settings)),
        ml.to_pandas(dbt.ref("int_lookalike_seeds_selected")),
        settings,
    )
    return ml.quality_rows(registry, statuses)
