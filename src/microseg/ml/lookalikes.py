"""Lookalikes: non-members ranked by similarity to a seed segment's members."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.neighbors import NearestNeighbors

from microseg.ml.clustering import clusterable
from microseg.ml.features import Scaler, _sample
from microseg.ml.settings import Settings

# Lookalikes compare candidates with at most this many seed members (a seeded sample).
MAX_LOOKALIKE_SEEDS = 5000
LOOKALIKE_NEIGHBOURS = 10


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
