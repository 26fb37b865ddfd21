{#- Window expression: 1-5 by rank of `order_by` over all rows (5 = top fifth).
    Ties share a score, so equal values never land in different quintiles. -#}
{% macro quintile_score(order_by) -%}
    1 + floor(5 * (rank() over (order by {{ order_by }}) - 1) / count(*) over ())
{%- endmacro %}
