"""Non-members of each lookalike's seed segment ranked by similarity to its members."""

from typing import Any

from microseg import ml


def model(dbt: Any, session: Any) -> Any:
    dbt.config(materialized="table", packages=["numpy", "pandas", "scikit-learn", "scipy"])
    settings = ml.Settings.for_run(
        dbt.config.get("ml_settings"), dbt.ref("int_segment_catalogue_rendered")
    )
    return ml.rank_lookalikes(
        ml.to_pandas(dbt.ref("int_person_features"), ml.person_columns(settings)),
        ml.to_pandas(dbt.ref("int_lookalike_seeds_selected")),
        settings,
    )
