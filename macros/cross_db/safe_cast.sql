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

{#- Snowflake's try_cast only accepts text. Timestamps go through a variant instead, so
    that an already typed value keeps its full precision whatever the session's output
    format; other types go through varchar. Not yet run on Snowflake. -#}
{% macro snowflake__safe_cast(field, type) %}
    {%- if 'timestamp' in type | lower -%}
        try_to_timestamp_ntz(to_variant({{ field }}))
    {%- else -%}
        try_cast(to_varchar({{ field }}) as {{ type }})
    {%- endif -%}
{% endmacro %}
