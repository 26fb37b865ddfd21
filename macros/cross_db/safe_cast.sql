{#- A cast that yields null instead of failing on bad input. dbt's own
    safe_cast falls back to a plain cast on DuckDB, so we dispatch here. -#}
{% macro safe_cast(field, type) %}
    {{ return(adapter.dispatch('safe_cast', 'microseg')(field, type)) }}
{% endmacro %}

{% macro default__safe_cast(field, type) %}
    {{ dbt.safe_cast(field, type) }}
{% endmacro %}

{% macro duckdb__safe_cast(field, type) %}
    try_cast({{ field }} as {{ type }})
{% endmacro %}

{#- Snowflake's try_cast only accepts text, so cast to varchar first. -#}
{% macro snowflake__safe_cast(field, type) %}
    try_cast(cast({{ field }} as varchar) as {{ type }})
{% endmacro %}
