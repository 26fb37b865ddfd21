{#- On DuckDB the raw tables are Parquet files: expose each as a view in the raw
    schema, so sources look the same as on a warehouse. Run as on-run-start. -#}
{% macro register_raw_sources() %}
    {{ return(adapter.dispatch('register_raw_sources', 'microseg')()) }}
{% endmacro %}

{% macro default__register_raw_sources() %}
    select 1
{% endmacro %}

{% macro duckdb__register_raw_sources() %}
    {%- set data_dir = env_var('MICROSEG_DATA_DIR', var('microseg__data_dir')) -%}
    {%- set schema = env_var('MICROSEG_RAW_SCHEMA', 'raw') -%}
    create schema if not exists {{ schema }};
    {%- for table_name in ['events', 'customers', 'consents'] %}
    create or replace view {{ schema }}.{{ table_name }} as
    select * from read_parquet('{{ data_dir }}/{{ table_name }}.parquet');
    {%- endfor %}
{% endmacro %}
