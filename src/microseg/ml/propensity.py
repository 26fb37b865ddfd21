"""Purchase and churn propensity: logistic regression, backtested on time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score, roc_curve

from microseg.ml.features import Scaler, _sample
from microseg.ml.settings import Settings

# Columns of int_person_features_at_cutoffs the propensity models read.
PROPENSITY_FEATURES = (
    "days_since_last_event",
    "days_since_first_event",
    "events_7d",
    "events_30d",
    "events_90d",
    "sessions_30d",
    "sessions_90d",
    "active_days_30d",
    "active_days_90d",
    "product_views_90d",
    "cart_adds_90d",
    "searches_90d",
    "content_interactions_90d",
    "email_opens_90d",
    "email_clicks_90d",
    "categories_90d",
    "purchases",
    "purchases_90d",
    "revenue",
    "revenue_90d",
    "days_since_last_purchase",
    "weekend_event_share_90d",
)
# Ranks persons for the baseline every propensity model must beat: recency alone.
BASELINE_FEATURE = "days_since_last_event"
# Below this a propensity model is not trained (too little data); its scores stay empty.
MIN_ROWS_PER_CLASS = 10
# The held-out ROC curve is stored at this many evenly spaced false positive rates.
ROC_POINTS = 51


@dataclass
class PropensityModel:
    scaler: Scaler
    coefficients: list[float]
    intercept: float

    def score(self, frame: pd.DataFrame) -> np.ndarray:
        logits = self.scaler.transform(frame) @ np.array(self.coefficients) + self.intercept
        return 1 / (1 + np.exp(-logits))

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> PropensityModel:
        """From stored parameters; keys scoring does not need (a lookalike's seed) are left."""
        return cls(Scaler(**values["scaler"]), values["coefficients"], values["intercept"])


def fit_propensity(
    rows: pd.DataFrame,
    label: pd.Series,
    seed: int,
    features: tuple[str, ...] | list[str] = PROPENSITY_FEATURES,
) -> PropensityModel:
    """Logistic regression on scaled features (L2, lbfgs)."""
    scaler = Scaler.fit(rows, list(features))
    # Robust-scaled log counts can still be large; standardise them for the solver.
    points = scaler.transform(rows)
    std = points.std(axis=0)
    std[std == 0] = 1
    scaler.scale = (np.array(scaler.scale) * std).tolist()
    regression = LogisticRegression(C=1.0, max_iter=2000, random_state=seed)
    regression.fit(scaler.transform(rows), label.to_numpy())
    return PropensityModel(scaler, regression.coef_[0].tolist(), float(regression.intercept_[0]))


def evaluate_propensity(
    model: PropensityModel, rows: pd.DataFrame, label: pd.Series, baseline_higher_is_likelier: bool
) -> dict[str, Any]:
    """Quality on held-out time: ROC-AUC against a recency-only baseline, precision at
    the top decile, calibration by score decile, the ROC curve and feature weights."""
    truth = label.to_numpy().astype(int)
    scores = model.score(rows)
    recency = rows[BASELINE_FEATURE].astype(float).to_numpy()
    baseline = recency if baseline_higher_is_likelier else -recency
    deciles = pd.qcut(pd.Series(scores).rank(method="first"), 10, labels=False)
    calibration = (
        pd.DataFrame({"decile": deciles + 1, "predicted": scores, "observed": truth})
        .groupby("decile")
        .agg(
            rows=("observed", "size"),
            predicted=("predicted", "mean"),
            observed=("observed", "mean"),
        )
        .reset_index()
    )
    top = deciles == 9
    return {
        "roc_auc": float(roc_auc_score(truth, scores)),
        "baseline_roc_auc": float(roc_auc_score(truth, baseline)),
        "precision_at_top_decile": float(truth[top.to_numpy()].mean()),
        "positive_rate": float(truth.mean()),
        "evaluation_rows": len(truth),
        "calibration": calibration.to_dict(orient="records"),
        "roc_curve": roc_points(truth, scores),
        "feature_weights": dict(
            sorted(
                zip(model.scaler.columns, model.coefficients, strict=True),
                key=lambda item: -abs(item[1]),
            )
        ),
    }


def roc_points(truth: np.ndarray, scores: np.ndarray) -> list[dict[str, float]]:
    """The ROC curve sampled at ROC_POINTS false positive rates: at each, the highest true
    positive rate any threshold reaches at that false positive rate or less."""
    false_positive, true_positive, _ = roc_curve(truth, scores)
    grid = np.linspace(0, 1, ROC_POINTS)
    reached = true_positive[np.searchsorted(false_positive, grid, side="right") - 1]
    return [
        {"false_positive_rate": round(float(x), 4), "true_positive_rate": round(float(y), 6)}
        for x, y in zip(grid, reached, strict=True)
    ]


@dataclass(frozen=True)
class Target:
    """What a propensity model predicts, for whom, and how its recency baseline ranks."""

    label: str  # a boolean column of int_person_features_at_cutoffs
    positive: bool  # predicts label = positive
    recently_active_only: bool  # only persons with events in the 90 days before the clock
    baseline_higher_is_likelier: bool  # longer since the last event = likelier outcome
    outcome_words: tuple[str, str] = ("had the outcome", "did not")  # (positive, negative)

    def rows(self, snapshots: pd.DataFrame, snapshot: str) -> pd.DataFrame:
        rows = snapshots[snapshots["snapshot"] == snapshot]
        if self.recently_active_only:
            rows = rows[rows["events_90d"] > 0]
        return rows.sort_values("person_key").reset_index(drop=True)

    def outcome(self, rows: pd.DataFrame) -> pd.Series:
        return rows[self.label].astype(bool) == self.positive

    def skip_reason(self, snapshots: pd.DataFrame, window_days: int) -> str | None:
        """Why the model cannot be fitted and evaluated, in words; None when it can: it
        needs two prediction windows of history, and both outcomes at least
        MIN_ROWS_PER_CLASS times in `train` and in `holdout`."""
        history = history_days(snapshots)
        if history < 2 * window_days:
            return (
                f"needs 2 windows of {window_days} days of history before the clock "
                f"(train and holdout), the data has {history:.1f} days"
            )
        yes, no = self.outcome_words
        for snapshot in ("train", "holdout"):
            counts = self.outcome(self.rows(snapshots, snapshot)).value_counts()
            positives, negatives = int(counts.get(True, 0)), int(counts.get(False, 0))
            if positives and negatives and min(positives, negatives) >= MIN_ROWS_PER_CLASS:
                continue
            if not positives and not negatives:
                return f"no persons to learn from in the {snapshot} window"
            if not positives or not negatives:
                return (
                    f"a single class in the {snapshot} window: all {positives + negatives} "
                    f"persons {yes if positives else no}"
                )
            return (
                f"too few persons of one class in the {snapshot} window: {positives} "
                f"{yes} and {negatives} {no}, needs at least {MIN_ROWS_PER_CLASS} of each"
            )
        return None


def history_days(snapshots: pd.DataFrame) -> float:
    """Days from the first event to the as-of clock (the `score` rows), 0 without events."""
    score = snapshots[snapshots["snapshot"] == "score"]
    if score.empty:
        return 0.0
    first = pd.to_datetime(score["first_event_at"]).min()
    clock = pd.to_datetime(score["feature_clock"]).max()
    return max((clock - first).total_seconds() / 86400, 0.0)


TARGETS = {
    "purchase_propensity": Target(
        "purchased_in_window", True, False, False, ("bought", "did not buy")
    ),
    "churn_risk": Target(
        "is_active_in_window", False, True, True, ("had no activity", "stayed active")
    ),
}


def fit_and_evaluate_propensity(
    snapshots: pd.DataFrame, target: Target, settings: Settings
) -> tuple[PropensityModel, dict[str, Any], int]:
    """Backtest on time (fit on `train`, evaluate on `holdout`), then refit on `holdout`,
    whose labels end at the as-of clock, for scoring."""
    seed = settings.random_seed
    train = target.rows(snapshots, "train")
    holdout = target.rows(snapshots, "holdout")
    train = train.iloc[_sample(len(train), settings.fit_sample_size, seed)]
    backtest = fit_propensity(train, target.outcome(train), seed)
    metrics = evaluate_propensity(
        backtest, holdout, target.outcome(holdout), target.baseline_higher_is_likelier
    )
    metrics["training_clock"] = str(train["feature_clock"].iloc[0])
    metrics["evaluation_clock"] = str(holdout["feature_clock"].iloc[0])
    refit_rows = holdout.iloc[_sample(len(holdout), settings.fit_sample_size, seed)]
    model = fit_propensity(refit_rows, target.outcome(refit_rows), seed)
    return model, metrics, len(refit_rows)
