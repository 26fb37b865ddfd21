{#- A cast that yields null instead of failing on bad input. dbt's own
    safe_cast falls back to a plain cast on DuckDB, so we dispatch here. -#}
{% macro safe_cast(field, type) %}
    {{ return(adapter.dispatch('safe_cast', 'microseg')(field, type)) }}
{% endmacro %}

{#- dbt's own default, called directly: the project's dispatch search order puts microseg
    first, so `dbt.safe_cast` would come back here on a third warehouse. -#}
{% macro default__safe_cast(field, type) %}
    {{ dbt.default__safe_cast(field, type) }}
{% endmacro %}

{% macro duckdb__safe_cast(field, type) %}
    try_cast({{ field }} as {{ type }})
{% endmacro %}

{#- Snowflake's try_cast and try_to_* take text only, and a timestamp turned into text keeps
    only what the session's output format shows (milliseconds by default). So a value that is
    already a timestamp is taken as it is (as_timestamp_ntz of its variant), and anything else
    goes through varchar. Run on fakesnow (pytests/test_snowflake_emulated.py), not yet on
    Snowflake itself. -#}
{% macro snowflake__safe_cast(field, type) %}
    {%- if 'timestamp' in type | lower -%}
        coalesce(as_timestamp_ntz(to_variant({{ field }})), try_cast(to_varchar({{ field }}) as {{ type }}))
    {%- else -%}
        try_cast(to_varchar({{ field }}) as {{ type }})
    {%- endif -%}
{% endmacro %}
