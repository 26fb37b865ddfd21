{#- A fast 64-bit fingerprint of a row's columns (DuckDB and Snowflake both have a
    variadic hash()). Equal rows hash equally, so exact copies are numbered apart. -#}
{% macro row_hash(columns) %}
    {{ return(adapter.dispatch('row_hash', 'microseg')(columns)) }}
{% endmacro %}

{% macro default__row_hash(columns) -%}
    hash({{ columns | join(', ') }})
{%- endmacro %}
