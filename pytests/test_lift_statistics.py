"""The lift statistics macro (macros/activation/lift_statistics.sql) against scipy, on
hand-made groups: a clear effect, none, zero conversions, every person converted, tiny and
empty groups."""

from __future__ import annotations

import contextlib
import math
import os
from pathlib import Path

import duckdb
import pytest
from scipy import stats

from conftest import Build
from microseg.project import ensure_hash_salt, project_dir

STATISTICS = (
    "treated_rate", "holdout_rate", "absolute_lift", "relative_lift", "z_statistic",
    "p_value", "difference_low", "difference_high", "persons_needed_per_group",
)  # fmt: skip
MIN_EFFECT = 0.02
# (treated persons, treated converted, holdout persons, holdout converted)
GROUPS = [
    (1000, 60, 1000, 40),
    (5000, 250, 500, 25),
    (200, 0, 50, 0),
    (30, 30, 10, 10),
    (12, 3, 4, 0),
    (3, 1, 0, 0),
]


def _reference(nt: int, ct: int, nh: int, ch: int) -> dict[str, float | None]:
    """The same statistics with scipy's normal distribution."""
    if not nt or not nh:
        return dict.fromkeys(STATISTICS) | {"treated_rate": ct / nt if nt else None}
    pt, ph = ct / nt, ch / nh
    pooled = (ct + ch) / (nt + nh)
    pooled_se = math.sqrt(pooled * (1 - pooled) * (1 / nt + 1 / nh))
    z = (pt - ph) / pooled_se if pooled_se else None
    # Agresti-Caffo: a success and a failure added to each group.
    at, ah = (ct + 1) / (nt + 2), (ch + 1) / (nh + 2)
    se = math.sqrt(at * (1 - at) / (nt + 2) + ah * (1 - ah) / (nh + 2))
    z_alpha, z_beta = stats.norm.ppf(0.975), stats.norm.ppf(0.8)
    target = min(ph + MIN_EFFECT, 1)
    mean = (ph + target) / 2
    needed = math.ceil(
        (z_alpha * math.sqrt(2 * mean * (1 - mean))
         + z_beta * math.sqrt(ph * (1 - ph) + target * (1 - target))) ** 2 / MIN_EFFECT**2
    )  # fmt: skip
    return {
        "treated_rate": pt,
        "holdout_rate": ph,
        "absolute_lift": pt - ph,
        "relative_lift": (pt - ph) / ph if ph else None,
        "z_statistic": z,
        "p_value": None if z is None else 2 * stats.norm.sf(abs(z)),
        "difference_low": at - ah - z_alpha * se,
        "difference_high": at - ah + z_alpha * se,
        "persons_needed_per_group": needed,
    }


@pytest.fixture(scope="module")
def computed(demo_build: Build, tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    root = tmp_path_factory.mktemp("lift")
    expressions = ", ".join(
        f"{{{{ statistics['{name}'] }}}} as {name}" for name in STATISTICS if name != "p_value"
    )
    values = " union all ".join(
        f"select {nt} as nt, {ct} as ct, {nh} as nh, {ch} as ch, {i} as i"
        for i, (nt, ct, nh, ch) in enumerate(GROUPS)
    )
    sql = (
        f"{{% set statistics = microseg.lift_statistics('nt', 'ct', 'nh', 'ch', {MIN_EFFECT}) %}}"
        "select *, {{ microseg.two_sided_p_value('z_statistic') }} as p_value from ("
        f"select i, {expressions} from ({values}) as groups) as tested order by i"
    )
    return _run_inline(sql, demo_build, root)


def _run_inline(sql: str, demo_build: Build, root: Path) -> list[dict]:
    """Compile inline SQL with the project's macros and run it on DuckDB."""
    from dbt.cli.main import dbtRunner

    ensure_hash_salt()
    os.environ["MICROSEG_DATA_DIR"] = str(demo_build.data_dir)
    os.environ["MICROSEG_DUCKDB_PATH"] = str(root / "lift.duckdb")
    with contextlib.chdir(root):
        result = dbtRunner().invoke(
            ["compile", "--quiet", "--inline", sql, "--project-dir", str(project_dir()),
             "--profiles-dir", str(project_dir()), "--target-path", str(root / "target")]
        )  # fmt: skip
    assert result.success, result.exception
    compiled = result.result.results[0].node.compiled_code
    cursor = duckdb.connect().execute(compiled)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@pytest.mark.parametrize("index", range(len(GROUPS)))
def test_lift_statistics_equal_scipys(computed: list[dict], index: int) -> None:
    expected = _reference(*GROUPS[index])
    row = computed[index]
    for name in STATISTICS:
        if expected[name] is None:
            assert row[name] is None, (GROUPS[index], name, row[name])
        elif name == "p_value":  # the SQL normal CDF is exact to 1.5e-7
            assert row[name] == pytest.approx(expected[name], abs=5e-7), name
        else:
            assert float(row[name]) == pytest.approx(expected[name], rel=1e-9, abs=1e-12), name


# Revenue per person in each group (hand-made: a few buyers among many zeros, one group
# of a single person, whose variance is undefined).
REVENUES = [
    ([0.0] * 40 + [120.0, 80.5, 99.99, 250.0], [0.0] * 20 + [60.0]),
    ([0.0, 0.0, 10.0], [5.0]),
]


@pytest.mark.parametrize("index", range(len(REVENUES)))
def test_revenue_interval_equals_numpys(
    demo_build: Build, tmp_path_factory: pytest.TempPathFactory, index: int
) -> None:
    import numpy as np

    treated, holdout = (np.array(group) for group in REVENUES[index])
    sums = [(len(g), float(g.sum()), float((g * g).sum())) for g in (treated, holdout)]
    (nt, st, qt), (nh, sh, qh) = sums
    sql = (
        f"{{% set interval = microseg.mean_difference_interval({nt}, {st}, {qt}, {nh}, {sh}, "
        f"{qh}) %}} select {{{{ interval['difference'] }}}} as difference, "
        "{{ interval['low'] }} as low, {{ interval['high'] }} as high"
    )
    row = _run_inline(sql, demo_build, tmp_path_factory.mktemp("revenue"))[0]
    difference = treated.mean() - holdout.mean()
    assert row["difference"] == pytest.approx(difference, rel=1e-9)
    if min(len(treated), len(holdout)) < 2:
        assert row["low"] is None and row["high"] is None
        return
    se = math.sqrt(treated.var(ddof=1) / len(treated) + holdout.var(ddof=1) / len(holdout))
    z = stats.norm.ppf(0.975)
    assert row["low"] == pytest.approx(difference - z * se, rel=1e-9)
    assert row["high"] == pytest.approx(difference + z * se, rel=1e-9)
