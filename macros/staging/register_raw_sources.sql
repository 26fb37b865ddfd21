{#- On DuckDB the raw tables are Parquet files: expose each as a view where its source
    says it lives, so sources look the same as on a warehouse. Run as on-run-start, on
    every invocation: a missing or unreadable required file stops the run before any
    model builds, and a view left from an earlier data folder is never reused. Which
    tables are read depends on var microseg__event_source (raw_tables_needed). -#}
{% macro register_raw_sources() %}
    {{ return(adapter.dispatch('register_raw_sources', 'microseg')()) }}
{% endmacro %}

{#- The raw tables this run reads, in order: each a dict of source, name, `required`
    (a missing file stops the run), `columns` (the empty typed table an optional one
    becomes when absent, or none to leave it out: Segment's per-event tables) and `read`
    (false: always the empty table, for the contract's events when a tracker is used;
    the build ledger still counts that source). -#}
{% macro raw_tables_needed() %}
    {%- set event_source = var('microseg__event_source') -%}
    {%- set text = dbt.type_string() -%}
    {%- set moment = dbt.type_timestamp() -%}
    {%- set contract_events = [] -%}
    {%- for name in microseg.raw_columns('events') -%}
        {%- set data_type = moment if name.endswith('_at')
            else (microseg.tracker_number_type() if name in ['price', 'revenue']
            else (dbt.type_int() if name == 'quantity' else text)) -%}
        {%- do contract_events.append((name, data_type)) -%}
    {%- endfor -%}
    {%- set tables = [{
        'source': 'tracking', 'name': 'events', 'required': event_source == 'contract',
        'columns': contract_events, 'read': event_source == 'contract',
    }] -%}
    {%- if event_source == 'segment' -%}
        {%- set call_columns = [
            ('id', text), ('anonymous_id', text), ('user_id', text), ('timestamp', moment),
            ('received_at', moment),
        ] -%}
        {%- do tables.append({'source': 'segment', 'name': 'tracks', 'required': true}) -%}
        {%- do tables.append({'source': 'segment', 'name': 'pages', 'required': true}) -%}
        {#- Without identify calls, stitching still sees the user_id on tracks and pages. -#}
        {%- do tables.append({
            'source': 'segment', 'name': 'identifies', 'required': false, 'columns': call_columns,
        }) -%}
        {%- for name in microseg.segment_event_tables() -%}
            {%- do tables.append({'source': 'segment', 'name': name, 'required': false, 'columns': none}) -%}
        {%- endfor -%}
    {%- elif event_source == 'snowplow' -%}
        {%- do tables.append({'source': 'snowplow', 'name': 'snowplow_events', 'required': true}) -%}
    {%- elif event_source == 'ga4' -%}
        {%- do tables.append({'source': 'ga4', 'name': 'ga4_events', 'required': true}) -%}
    {%- elif event_source != 'contract' -%}
        {%- do microseg.tracking_events_relation() -%}
    {%- endif -%}
    {#- Real extracts often have no CRM: without the file, no customers or consents (and
        so no consent, which fails closed). Without erasure requests, no one has asked. -#}
    {%- for source_name, name in [('crm', 'customers'), ('crm', 'consents')] -%}
        {%- set columns = [] -%}
        {%- for column in microseg.raw_columns(name) -%}
            {%- do columns.append((column, {
                'signed_up_at': moment, 'recorded_at': moment, 'birth_year': dbt.type_int(),
                'is_granted': dbt.type_boolean(),
            }.get(column, text))) -%}
        {%- endfor -%}
        {%- do tables.append({'source': source_name, 'name': name, 'required': false, 'columns': columns}) -%}
    {%- endfor -%}
    {%- do tables.append({
        'source': 'privacy', 'name': 'erasure_requests', 'required': false,
        'columns': [('user_id', text), ('email', text), ('anonymous_id', text), ('requested_at', moment)],
    }) -%}
    {#- Nobody suppressed, no sends logged outside the tracker. -#}
    {%- for source_name, name in [('privacy', 'suppression_list'), ('sends', 'send_log')] -%}
        {%- do tables.append({
            'source': source_name, 'name': name, 'required': false,
            'columns': microseg.raw_contract(name),
        }) -%}
    {%- endfor -%}
    {{ return(tables) }}
{% endmacro %}

{#- Where a raw table lives: its source, or beside Segment's tracks for a per-event
    table (those are not declared sources: which exist depends on the tracking plan). -#}
{% macro raw_table_relation(table) %}
    {%- if table.source == 'segment' and table.name not in ['tracks', 'pages', 'identifies'] -%}
        {%- set tracks = source('segment', 'tracks') -%}
        {{ return(api.Relation.create(
            database=tracks.database, schema=tracks.schema, identifier=table.name, type='view')) }}
    {%- endif -%}
    {{ return(source(table.source, table.name)) }}
{% endmacro %}

{#- An empty table with the given (column, type) pairs. -#}
{% macro empty_raw_table(columns) -%}
    select
    {%- for name, data_type in columns %}
        cast(null as {{ data_type }}) as {{ adapter.quote(name) }}{{ ',' if not loop.last }}
    {%- endfor %}
    where false
{%- endmacro %}

{#- On a warehouse the raw tables are loaded by others; only the optional ones are made,
    empty, when they do not exist (no CRM extract, nobody asked to be erased yet, no
    identify calls; the contract's events when a tracker is used). Segment's per-event
    tables are never made: the adapter skips those that do not exist. -#}
{% macro default__register_raw_sources() %}
    {%- if not execute -%}
        {{ return('select 1') }}
    {%- endif -%}
    {%- for table in microseg.raw_tables_needed() if table.columns and not table.required -%}
        {%- set relation = microseg.raw_table_relation(table) -%}
        {%- set create_table -%}
            create table if not exists {{ relation }} (
            {%- for name, data_type in table.columns %}
                {{ adapter.quote(name) }} {{ data_type }}{{ ',' if not loop.last }}
            {%- endfor %}
            )
        {%- endset -%}
        {%- do run_query(create_table) -%}
    {%- endfor -%}
    {{ return('select 1') }}
{% endmacro %}

{% macro duckdb__register_raw_sources() %}
    {%- if not execute -%}
        {{ return('select 1') }}
    {%- endif -%}
    {%- for table in microseg.raw_tables_needed() -%}
        {%- set relation = microseg.raw_table_relation(table) -%}
        {%- set file = microseg.raw_source_file(table.name) -%}
        {%- if "'" in file -%}
            {{ exceptions.raise_compiler_error('the data folder path must not contain quotes: ' ~ file) }}
        {%- endif -%}
        {%- set found = table.get('read', true)
            and run_query("select count(*) from glob('" ~ file ~ "')").columns[0].values()[0] > 0 -%}
        {%- if table.required and not found -%}
            {{ exceptions.raise_compiler_error(
                'raw source file ' ~ file ~ ' is missing: put the ' ~ table.name ~ ' table there ('
                ~ microseg.raw_table_help(table) ~ ') or point MICROSEG_DATA_DIR '
                ~ '(var microseg__data_dir) at the folder that has it'
                ~ ('; for demo data there, run `make demo` or `microseg generate`'
                    if file.startswith(var('microseg__data_dir')) else '')) }}
        {%- endif %}
    create schema if not exists {{ relation.schema }};
    drop view if exists {{ relation }};
        {%- if found %}
        {#- DuckDB reads the file's schema here: an unreadable file fails the hook, and
            DuckDB's message names the file. #}
    create view {{ relation }} as
    select * from read_parquet('{{ file }}');
        {%- elif table.columns %}
    create view {{ relation }} as
    {{ microseg.empty_raw_table(table.columns) }};
        {%- endif %}
    {%- endfor %}
    select 1
{% endmacro %}

{#- Where to read about a raw table, for the message when its file is missing. -#}
{% macro raw_table_help(table) %}
    {%- if table.source == 'tracking' -%}
        {{ return('see the README, Input contract; or set var microseg__event_source to segment, snowplow or ga4 for those trackers\' tables') }}
    {%- endif -%}
    {%- set what = {
        'tracks': 'Segment\'s tracks table', 'pages': 'Segment\'s pages table',
        'snowplow_events': 'Snowplow\'s atomic.events table',
        'ga4_events': 'the GA4 BigQuery export (its events_YYYYMMDD tables in one file)',
    }.get(table.name, table.name) -%}
    {{ return(what ~ ' as Parquet, see the README, Trackers; var microseg__event_source is '
        ~ var('microseg__event_source')) }}
{% endmacro %}

{#- The Parquet file behind a raw table on DuckDB: <data dir>/<table name>.parquet; none
    elsewhere. -#}
{% macro raw_source_file(table_name) %}
    {%- if target.type != 'duckdb' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set data_dir = env_var('MICROSEG_DATA_DIR', var('microseg__data_dir')) -%}
    {{ return(data_dir.rstrip('/') ~ '/' ~ table_name ~ '.parquet') }}
{% endmacro %}

{#- Size and modification time of a raw file for the build ledger; null when the file
    is absent (an optional table read as empty). -#}
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
