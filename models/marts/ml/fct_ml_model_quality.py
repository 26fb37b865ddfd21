"""The latest models' quality metrics, K selection, calibration and feature weights."""

from typing import Any

from microseg import ml


def model(dbt: Any, session: Any) -> Any:
    dbt.config(materialized="table", packages=["numpy", "pandas", "scikit-learn", "scipy"])
    return ml.quality_rows(ml.to_pandas(dbt.ref("dim_ml_models")))
