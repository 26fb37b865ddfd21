"""Lookalikes: non-members ranked by a model of what a seed segment's members look like."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from microseg.ml.clustering import clusterable
from microseg.ml.features import _sample
from microseg.ml.propensity import PropensityModel, fit_propensity
from microseg.ml.settings import Settings


def fit_lookalike(
    persons: pd.DataFrame, seeds: pd.DataFrame, lookalike: dict[str, Any], settings: Settings
) -> tuple[dict[str, Any], dict[str, Any], int]:
    """A logistic regression of seed membership on the clustering features, fitted on a
    seeded sample of the clusterable persons (`persons`: at most half of it seed members,
    so that both classes are there); the probability it gives a non-member is their
    similarity. Returns parameters (with the seed segment they were fitted on), metrics
    and rows fitted. Call only when lookalike_skip_reason is None."""
    is_seed = _is_seed(persons, seeds, lookalike["key"])
    members, others = np.flatnonzero(is_seed), np.flatnonzero(~is_seed)
    seed_count = min(len(members), settings.fit_sample_size // 2)
    taken = members[_sample(len(members), seed_count, settings.random_seed)]
    rest = others[_sample(len(others), settings.fit_sample_size - seed_count, settings.random_seed)]
    sample = np.sort(np.concatenate([taken, rest]))
    rows, label = persons.iloc[sample], is_seed.iloc[sample]
    model = fit_propensity(rows, label, settings.random_seed, settings.cluster_features)
    metrics = {
        "seed_members": int(is_seed.sum()),
        "candidates": int((~is_seed).sum()),
        "training_roc_auc": float(roc_auc_score(label.to_numpy(), model.score(rows))),
        "feature_weights": dict(
            sorted(
                zip(model.scaler.columns, model.coefficients, strict=True),
                key=lambda item: -abs(item[1]),
            )
        ),
    }
    parameters = {
        "scaler": vars(model.scaler),
        "coefficients": model.coefficients,
        "intercept": model.intercept,
        "seed_segment": lookalike["seed_segment"],
    }
    return parameters, metrics, len(rows)


def rank_lookalikes(
    features: pd.DataFrame,
    seeds: pd.DataFrame,
    models: dict[str, pd.Series],
    settings: Settings,
) -> pd.DataFrame:
    """What int_lookalike_scores computes in SQL, for the tests: per lookalike with a
    registered model (`models`: latest_models), its non-members ranked by similarity."""
    persons = clusterable(features, settings)
    frames = []
    for lookalike in settings.lookalikes:
        entry = models.get(lookalike["key"])
        is_seed = _is_seed(persons, seeds, lookalike["key"])
        if entry is None or not is_seed.any():
            continue
        model = PropensityModel.from_dict(json.loads(entry["parameters_json"]))
        candidates = persons[~is_seed]
        ranked = pd.DataFrame(
            {
                "lookalike_key": lookalike["key"],
                "person_key": candidates["person_key"].to_numpy(),
                "similarity": model.score(candidates).round(6),
            }
        ).sort_values(["similarity", "person_key"], ascending=[False, True])
        ranked["similarity_rank"] = np.arange(1, len(ranked) + 1)
        top_n = lookalike.get("top_n") or int(len(ranked) * lookalike["top_percent"] / 100)
        ranked["is_selected"] = ranked["similarity_rank"] <= top_n
        ranked["seed_size"] = int(is_seed.sum())
        frames.append(ranked)
    columns = ["lookalike_key", "person_key", "similarity", "similarity_rank", "is_selected"]
    result = pd.concat(frames) if frames else pd.DataFrame(columns=[*columns, "seed_size"])
    return result.reset_index(drop=True)


def _is_seed(persons: pd.DataFrame, seeds: pd.DataFrame, key: str) -> pd.Series:
    seed_keys = set(seeds.loc[seeds["lookalike_key"] == key, "person_key"])
    return persons["person_key"].isin(seed_keys).reset_index(drop=True)


def lookalike_skip_reason(
    persons: pd.DataFrame, seeds: pd.DataFrame, lookalike: dict[str, Any], settings: Settings
) -> str | None:
    """Why a lookalike cannot be fitted (`persons`: the clusterable ones), in words; None
    when it can."""
    is_seed = _is_seed(persons, seeds, lookalike["key"])
    enough = f"at least {settings.min_interactions} interactions"
    if not is_seed.any():
        return (
            f"the seed segment {lookalike['seed_segment']} has no member with {enough} "
            f"(among {len(persons)} such persons)"
        )
    if is_seed.all():
        return f"every person with {enough} is in the seed segment {lookalike['seed_segment']}"
    return None
