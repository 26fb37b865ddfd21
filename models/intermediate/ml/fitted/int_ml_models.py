"""The model registry: one row per trained model version (microseg.ml.train_models)."""

from typing import Any

from microseg import ml


def model(dbt: Any, session: Any) -> Any:
    dbt.config(
        materialized="incremental",
        incremental_strategy="append",
        packages=["numpy", "pandas", "scikit-learn", "scipy"],
    )
    settings = ml.Settings.for_run(
        dbt.config.get("ml_settings"), dbt.ref("int_segment_catalogue_rendered")
    )
    previous = (
        ml.to_pandas(session.sql(f"select * from {dbt.this}")) if dbt.is_incremental else None
    )
    # Nothing due (microseg__ml_retrain_after_days): no input is read, nothing appended.
    clock = ml.to_pandas(dbt.ref("int_person_features"), ["features_as_of"])["features_as_of"]
    if ml.nothing_due(previous, clock, settings):
        return previous.head(0)
    return ml.train_models(
        ml.to_pandas(dbt.ref("int_person_features_at_cutoffs")),
        ml.to_pandas(dbt.ref("int_person_features"), ml.person_columns(settings)),
        settings,
        previous,
    )
