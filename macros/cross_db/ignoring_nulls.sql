{#- A value window function that skips nulls, e.g. last_value(x ignore nulls);
    the caller appends `over (...)`. The clause sits inside the parentheses on
    DuckDB and after them on Snowflake. -#}
{% macro ignoring_nulls(function_name, expression) %}
    {{ return(adapter.dispatch('ignoring_nulls', 'microseg')(function_name, expression)) }}
{% endmacro %}

{% macro default__ignoring_nulls(function_name, expression) -%}
    {{ function_name }}({{ expression }} ignore nulls)
{%- endmacro %}

{% macro snowflake__ignoring_nulls(function_name, expression) -%}
    {{ function_name }}({{ expression }}) ignore nulls
{%- endmacro %}
