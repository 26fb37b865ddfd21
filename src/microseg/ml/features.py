"""Preparing features for the models: scaling, missing values, seeded samples."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# Missing "days since" values (never happened) count as this many days.
NEVER_DAYS = 3650.0


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
