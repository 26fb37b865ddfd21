{#- The build ledger: tables inside the warehouse that record every dbt invocation, what
    it read and whether everything in it succeeded. `microseg validate` adds the gate's
    verdict and `microseg publish` trusts nothing else (src/microseg/ledger.py). -#}
{% macro ledger_schema() -%}
    {{ return(target.schema ~ '_ledger') }}
{%- endmacro %}

{% macro ledger_literal(value) -%}
    {%- if value is none -%}
        null
    {%- else -%}
        '{{ value | string | replace("'", "''") }}'
    {%- endif -%}
{%- endmacro %}

{#- on-run-start (after the sources are registered): a `running` row for this invocation,
    the fingerprint of every source it reads, and where incremental runs must start
    re-reading raw events that were loaded since the last run whatever their receipt time. -#}
{% macro ledger_start() %}
    {%- if not execute -%}
        {{ return('select 1') }}
    {%- endif -%}
    {%- set schema = microseg.ledger_schema() -%}
    {%- set string = dbt.type_string() -%}
    {%- set timestamp = dbt.type_timestamp() -%}
        create schema if not exists {{ schema }};
        create table if not exists {{ schema }}.builds (
            invocation_id {{ string }},
            command {{ string }},
            selection {{ string }},
            is_full_refresh boolean,
            as_of {{ string }},
            started_at {{ timestamp }},
            finished_at {{ timestamp }},
            status {{ string }},
            nodes_run integer,
            nodes_failed integer,
            failed_nodes {{ string }},
            backfill_from {{ timestamp }}
        );
        create table if not exists {{ schema }}.build_windows (
            invocation_id {{ string }},
            changed_from {{ timestamp }}
        );
        create table if not exists {{ schema }}.build_inputs (
            invocation_id {{ string }},
            source_name {{ string }},
            location {{ string }},
            bytes bigint,
            modified_at {{ string }},
            row_count bigint
        );
        create table if not exists {{ schema }}.build_relations (
            invocation_id {{ string }},
            model_name {{ string }},
            schema_name {{ string }},
            relation_name {{ string }},
            materialized {{ string }},
            is_public boolean
        );
        create table if not exists {{ schema }}.gate_verdicts (
            invocation_id {{ string }},
            validated_at {{ timestamp }},
            passed boolean,
            expectations_failed {{ string }},
            tables {{ string }},
            tables_fingerprint {{ string }},
            signature {{ string }}
        );
        create table if not exists {{ schema }}.exports (
            exported_at {{ timestamp }},
            folder {{ string }},
            file_format {{ string }},
            relative_path {{ string }}
        );
        create table if not exists {{ schema }}.erasure_log (
            identifier_type {{ string }},
            identifier_hash {{ string }},
            requested_at {{ timestamp }},
            erased_at {{ timestamp }},
            invocation_id {{ string }},
            tables_purged {{ string }}
        );
    {%- set args = invocation_args_dict -%}
    {%- set selection = [] -%}
    {%- for flag in ['select', 'exclude', 'selector', 'resource_types', 'exclude_resource_types'] -%}
        {%- if args.get(flag) -%}
            {%- do selection.append(flag ~ '=' ~ args.get(flag) | join(' ')) -%}
        {%- endif -%}
    {%- endfor %}
        insert into {{ schema }}.builds
            (invocation_id, command, selection, is_full_refresh, as_of, started_at, status,
             backfill_from)
        values (
            '{{ invocation_id }}',
            {{ microseg.ledger_literal(args.get('which')) }},
            {{ microseg.ledger_literal(selection | join('; ') or none) }},
            {{ 'true' if flags.FULL_REFRESH else 'false' }},
            {{ microseg.ledger_literal(var('microseg__as_of')) }},
            cast({{ microseg.ledger_literal(run_started_at.strftime('%Y-%m-%d %H:%M:%S.%f')) }} as {{ timestamp }}),
            'running',
            {{ microseg.events_backfill_from() }}
        );
        insert into {{ schema }}.build_windows
        select '{{ invocation_id }}', {{ microseg.events_changed_from() }};
    {%- for source_node in graph.sources.values() if source_node.package_name == 'microseg' -%}
        {%- set relation = source(source_node.source_name, source_node.name) -%}
        {%- set file = microseg.raw_source_file(source_node.name) %}
            insert into {{ schema }}.build_inputs
            select
                '{{ invocation_id }}',
                '{{ source_node.source_name }}.{{ source_node.name }}',
                {{ microseg.ledger_literal(file or relation) }},
                {{ microseg.raw_source_bytes(file) }},
                {{ microseg.raw_source_modified_at(file) }},
                (select count(*) from {{ relation }});
    {%- endfor %}
        select 1
{% endmacro %}

{#- on-run-end: whether every node and test of this invocation succeeded, and the
    relations of its models (publication reads them from here, not from target/). -#}
{% macro ledger_end(results) %}
    {%- if not execute -%}
        {{ return('select 1') }}
    {%- endif -%}
    {%- set schema = microseg.ledger_schema() -%}
    {%- set failed = [] -%}
    {%- set skipped = [] -%}
    {%- for result in results if result.status not in ['success', 'pass', 'warn', 'no-op'] -%}
        {%- do (skipped if result.status == 'skipped' else failed).append(
            result.node.name ~ ' (' ~ result.status ~ ')') -%}
    {%- endfor %}
        delete from {{ schema }}.build_relations where invocation_id = '{{ invocation_id }}';
        {%- for node in graph.nodes.values()
            if node.resource_type in ['model', 'snapshot'] and node.package_name == 'microseg'
            and node.config.materialized != 'ephemeral' and node.config.enabled %}
        insert into {{ schema }}.build_relations values (
            '{{ invocation_id }}', '{{ node.name }}', '{{ node.schema }}',
            '{{ node.alias }}', '{{ node.config.materialized }}',
            {{ 'true' if node.access == 'public' else 'false' }}
        );
        {%- endfor %}
        update {{ schema }}.builds
        set
            finished_at = {{ dbt.current_timestamp() }},
            status = '{{ 'failed' if failed or skipped else 'succeeded' }}',
            nodes_run = {{ results | length }},
            nodes_failed = {{ failed | length + skipped | length }},
            failed_nodes = {{ microseg.ledger_literal(
                (failed + ([skipped | length ~ ' skipped'] if skipped else [])) | join(', ') or none) }}
        where invocation_id = '{{ invocation_id }}'
{% endmacro %}

{#- The start of the earliest receipt day where the raw events and base_tracking__events
    disagree on the number of rows: rows loaded since the last run with old receipt
    times (a backfill). Null on a first or full build, or when nothing was missed. -#}
{% macro events_backfill_from() -%}
    {%- set base = adapter.get_relation(
        database=target.database, schema=target.schema ~ '_staging', identifier='base_tracking__events') -%}
    {%- if base is none or flags.FULL_REFRESH -%}
        {{ return('cast(null as ' ~ dbt.type_timestamp() ~ ')') }}
    {%- endif -%}
    {%- set raw_day = dbt.date_trunc('day', 'received_at') -%}
    {#- The raw rows as base_tracking__events reads them, in the contract's shape. -#}
    {%- if var('microseg__event_source') != 'contract' -%}
        {#- A tracker's tables are read through its adapter's model, which a hook cannot
            ref: no backfill detection for the adapters yet (the late window still holds). -#}
        {{ return('cast(null as ' ~ dbt.type_timestamp() ~ ')') }}
    {%- endif -%}
    {%- set raw_events = '(' ~ microseg.contract_events_select(source('tracking', 'events')) ~ ')' -%}
    (
        select {{ dbt.dateadd('second', -1, 'min(coalesce(raw_days.receipt_day, base_days.receipt_day))') }}
        from (
            select {{ raw_day }} as receipt_day, count(*) as row_count
            from {{ raw_events }} as raw_events
            {%- if microseg.erasures_exist() %}
            where not {{ microseg.erased_condition({
                microseg.clean_string('user_id'): 'user_id',
                microseg.clean_string('anonymous_id'): 'anonymous_id',
            }) }}
            {%- endif %}
            group by 1
        ) as raw_days
        full outer join (
            select {{ dbt.date_trunc('day', 'received_at') }} as receipt_day, count(*) as row_count
            from {{ base }}
            group by 1
        ) as base_days
            on raw_days.receipt_day = base_days.receipt_day
        where coalesce(raw_days.receipt_day, base_days.receipt_day) is not null
            and coalesce(raw_days.row_count, 0) != coalesce(base_days.row_count, 0)
    )
{%- endmacro %}

{#- Where this invocation's late windows start: the earliest over the incremental
    event-level models (each re-reads raw rows received after its own start, backfills
    included). Tests of event-level models check only the rows of events, devices and
    users received since then (get_where_subquery). Null on a first or full build, or
    when one of them is missing: everything is checked. -#}
{% macro events_changed_from() -%}
    {%- set null = 'cast(null as ' ~ dbt.type_timestamp() ~ ')' -%}
    {%- set starts = [] -%}
    {%- for schema, identifier, rows in [
        ('_staging', 'base_tracking__events', "row_status = 'clean'"),
        ('_intermediate', 'int_sessionized_events', 'true'),
        ('_intermediate', 'int_events_attributed_to_persons', 'true'),
    ] -%}
        {%- set relation = adapter.get_relation(
            database=target.database, schema=target.schema ~ schema, identifier=identifier) -%}
        {%- if relation is none or flags.FULL_REFRESH -%}
            {{ return(null) }}
        {%- endif -%}
        {%- do starts.append(
            '(select ' ~ microseg.late_window_start() ~ ' from ' ~ relation ~ ' where ' ~ rows ~ ')') -%}
    {%- endfor -%}
    least({{ starts | join(', ') }})
{%- endmacro %}

{#- This invocation's backfill start, for the incremental models' windows. -#}
{% macro current_backfill_from() -%}
    (
        select max(backfill_from) from {{ microseg.ledger_schema() }}.builds
        where invocation_id = '{{ invocation_id }}'
    )
{%- endmacro %}
