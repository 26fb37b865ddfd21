"""Every person's cluster and propensity scores from the latest registered models."""

from typing import Any

from microseg import ml


def model(dbt: Any, session: Any) -> Any:
    dbt.config(materialized="table", packages=["numpy", "pandas", "scikit-learn", "scipy"])
    settings = ml.Settings.for_run(
        dbt.config.get("ml_settings"), dbt.ref("int_segment_catalogue_rendered")
    )
    return ml.score_persons(
        ml.to_pandas(dbt.ref("int_ml_models")),
        ml.to_pandas(dbt.ref("int_person_features_at_cutoffs")),
        ml.to_pandas(dbt.ref("int_person_features"), ml.person_columns(settings)),
        settings,
    )
