{#- Window expression: 1-5 by the mid-rank percentile of `value` among all rows (5 = the
    top fifth; with `descending`, the smallest values are on top). A tied block shares
    one score placed at its middle position: 1 + floor(5 * (mean position - 0.5) / n),
    in integers as 5 * (2 * rank + block size - 2) / (2 * n). So all-equal values score 3
    (never 1 or 5 by accident), a big tied block scores by where it sits, and distinct
    values split into fifths as evenly as n allows (unchanged when n is a multiple of 5).
    `value` must not be null. -#}
{% macro quintile_score(value, descending=false) -%}
    1 + floor(
        5 * (
            2 * rank() over (order by {{ value }}{{ ' desc' if descending else '' }})
            + count(*) over (partition by {{ value }})
            - 2
        ) / (2 * count(*) over ())
    )
{%- endmacro %}
