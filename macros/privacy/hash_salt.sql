{#- The secret salt for salted identifiers, as a SQL expression the warehouse evaluates:
    the salt's value is never in the SQL, so neither is it in dbt's logs or artifacts.
    Never read with env_var (dbt records the values of the variables it reads).
    DuckDB: the variable microseg_hash_salt, which the dbt-duckdb plugin
    microseg.dbt_salt_plugin sets on each connection from MICROSEG_HASH_SALT; a query
    that needs it fails with a clear message when it is missing or too short. Salted
    columns belong in tables: a view would read the variable of whoever queries it.
    Snowflake: the secure function <database>.microseg_secrets.hash_salt(), created
    outside dbt (README, Snowflake); null when it is shorter than 16 characters, which
    the not_null tests on the salted ids report (Snowflake SQL cannot raise an error). -#}
{% macro hash_salt_sql() %}
    {{ return(adapter.dispatch('hash_salt_sql', 'microseg')()) }}
{% endmacro %}

{% macro default__hash_salt_sql() %}
    {%- if execute -%}
        {{ exceptions.raise_compiler_error(
            'no way to read the hash salt on ' ~ target.type ~ ': add a macro '
            ~ target.type ~ '__hash_salt_sql (macros/privacy/hash_salt.sql)') }}
    {%- endif -%}
{% endmacro %}

{% macro duckdb__hash_salt_sql() -%}
    {%- set salt = "cast(getvariable('microseg_hash_salt') as varchar)" -%}
    case when length(coalesce({{ salt }}, '')) >= 16 then {{ salt }} else error(
        'MICROSEG_HASH_SALT must be set to a secret of at least 16 characters'
        || ' (production: from the secret store; dev: the microseg CLI sets it)'
    ) end
{%- endmacro %}

{% macro snowflake__hash_salt_sql() -%}
    {%- set salt = target.database ~ '.microseg_secrets.hash_salt()' -%}
    case when length({{ salt }}) >= 16 then {{ salt }} end
{%- endmacro %}

{#- On-run-start of the commands that build models: stop before anything builds, with
    what to do, when the salt cannot be read (else each salted model fails on its own). -#}
{% macro require_hash_salt() %}
    {{ return(adapter.dispatch('require_hash_salt', 'microseg')()) }}
{% endmacro %}

{% macro default__require_hash_salt() %}
    select 1
{% endmacro %}

{% macro duckdb__require_hash_salt() %}
    {%- if execute and flags.WHICH in ['build', 'run', 'snapshot', 'retry'] -%}
        {%- set salt = "cast(getvariable('microseg_hash_salt') as varchar)" -%}
        {%- set length = run_query('select length(coalesce(' ~ salt ~ ", ''))").columns[0].values()[0] -%}
        {%- if length < 16 -%}
            {{ exceptions.raise_compiler_error(
                'MICROSEG_HASH_SALT is ' ~ ('not set' if length == 0 else 'shorter than 16 characters')
                ~ ': export MICROSEG_HASH_SALT=<a secret of 16+ characters>, or run `make demo`'
                ~ ' (or any microseg command) once to create your dev salt in ~/.config/microseg/hash_salt') }}
        {%- endif -%}
    {%- endif %}
    select 1
{% endmacro %}
