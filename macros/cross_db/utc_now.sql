{#- The time of the build as a naive UTC timestamp, whatever the session's time zone: a
    plain cast of current_timestamp gives local time (DuckDB's TimeZone is the machine's,
    Snowflake's defaults to America/Los_Angeles), hours off the UTC the data is in. -#}
{% macro utc_now() %}
    {{ return(adapter.dispatch('utc_now', 'microseg')()) }}
{% endmacro %}

{% macro default__utc_now() -%}
    cast({{ dbt.current_timestamp() }} as {{ dbt.type_timestamp() }})
{%- endmacro %}

{% macro duckdb__utc_now() -%}
    (now() at time zone 'UTC')
{%- endmacro %}

{% macro snowflake__utc_now() -%}
    sysdate()
{%- endmacro %}
