{#- True when a timestamp falls on a Saturday or Sunday (ISO day of week 6 or 7). -#}
{% macro is_weekend(timestamp) %}
    {{ return(adapter.dispatch('is_weekend', 'microseg')(timestamp)) }}
{% endmacro %}

{% macro default__is_weekend(timestamp) -%}
    extract(isodow from {{ timestamp }}) >= 6
{%- endmacro %}

{% macro snowflake__is_weekend(timestamp) -%}
    dayofweekiso({{ timestamp }}) >= 6
{%- endmacro %}
