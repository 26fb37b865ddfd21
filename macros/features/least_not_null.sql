{#- The smaller of two expressions, ignoring a null. Written out because `least` skips
    nulls on DuckDB but returns null on Snowflake. -#}
{% macro least_not_null(first, second) -%}
    least(coalesce({{ first }}, {{ second }}), coalesce({{ second }}, {{ first }}))
{%- endmacro %}
