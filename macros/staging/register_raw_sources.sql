{#- On DuckDB the raw tables are Parquet files: expose each as a view in the raw
    schema, so sources look the same as on a warehouse. Run as on-run-start, on every
    invocation: a missing or unreadable file stops the run before any model builds
    (a view left from an earlier data folder is never reused). -#}
{% macro register_raw_sources() %}
    {{ return(adapter.dispatch('register_raw_sources', 'microseg')()) }}
{% endmacro %}

{#- On a warehouse the raw tables are loaded by others; only the optional one is made
    (empty) when it does not exist, so that nobody needs to ask to be erased first. -#}
{% macro default__register_raw_sources() %}
    {%- set schema = env_var('MICROSEG_RAW_SCHEMA', 'raw') %}
    create table if not exists {{ schema }}.erasure_requests (
        user_id {{ dbt.type_string() }},
        email {{ dbt.type_string() }},
        anonymous_id {{ dbt.type_string() }},
        requested_at {{ dbt.type_timestamp() }}
    )
{% endmacro %}

{% macro duckdb__register_raw_sources() %}
    {%- if not execute -%}
        {{ return('select 1') }}
    {%- endif -%}
    {%- set schema = env_var('MICROSEG_RAW_SCHEMA', 'raw') -%}
    {%- for table_name in ['events', 'customers', 'consents'] -%}
        {%- set file = microseg.raw_source_file(table_name) -%}
        {%- if "'" in file -%}
            {{ exceptions.raise_compiler_error('the data folder path must not contain quotes: ' ~ file) }}
        {%- endif -%}
        {%- set found = run_query("select count(*) from glob('" ~ file ~ "')").columns[0].values()[0] -%}
        {%- if found == 0 -%}
            {{ exceptions.raise_compiler_error(
                'raw source file ' ~ file ~ ' is missing: put the ' ~ table_name
                ~ ' table there (see the README, Input contract) or point MICROSEG_DATA_DIR '
                ~ '(var microseg__data_dir) at the folder that has it') }}
        {%- endif -%}
        {#- DuckDB reads the file's schema here: an unreadable file fails the hook, and
            DuckDB's message names the file. -#}
    create schema if not exists {{ schema }};
    drop view if exists {{ schema }}.{{ table_name }};
    create view {{ schema }}.{{ table_name }} as
    select * from read_parquet('{{ file }}');
    {%- endfor %}
    {#- Optional: without the file, no one has asked to be erased. -#}
    {%- set file = microseg.raw_source_file('erasure_requests') -%}
    {%- set found = run_query("select count(*) from glob('" ~ file ~ "')").columns[0].values()[0] %}
    drop view if exists {{ schema }}.erasure_requests;
    create view {{ schema }}.erasure_requests as
    {% if found -%}
        select * from read_parquet('{{ file }}')
    {%- else -%}
        select
            cast(null as varchar) as user_id,
            cast(null as varchar) as email,
            cast(null as varchar) as anonymous_id,
            cast(null as timestamp) as requested_at
        where false
    {%- endif %};
    select 1
{% endmacro %}

{#- The Parquet file behind a raw table on DuckDB; none elsewhere. -#}
{% macro raw_source_file(table_name) %}
    {%- if target.type != 'duckdb' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set data_dir = env_var('MICROSEG_DATA_DIR', var('microseg__data_dir')) -%}
    {{ return(data_dir.rstrip('/') ~ '/' ~ table_name ~ '.parquet') }}
{% endmacro %}

{% macro raw_source_bytes(file) -%}
    {%- if file -%}
        (select max(size) from read_blob('{{ file }}'))
    {%- else -%}
        cast(null as bigint)
    {%- endif -%}
{%- endmacro %}

{% macro raw_source_modified_at(file) -%}
    {%- if file -%}
        (select cast(max(last_modified) as {{ dbt.type_string() }}) from read_blob('{{ file }}'))
    {%- else -%}
        cast(null as {{ dbt.type_string() }})
    {%- endif -%}
{%- endmacro %}
