{#- Where the raw events come from, by var microseg__event_source: `contract` reads the
    input contract's table (source tracking.events), a tracker's name reads that
    tracker's adapter, base_<tracker>__events (models/staging/<tracker>), which maps its
    tables into the same columns. -#}
{% macro tracking_events_relation() %}
    {%- set event_source = var('microseg__event_source') -%}
    {%- if event_source == 'contract' -%}
        {{ return(source('tracking', 'events')) }}
    {%- elif event_source in microseg.tracker_event_sources() -%}
        {{ return(ref('base_' ~ event_source ~ '__events')) }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error(
        'var microseg__event_source is ' ~ (event_source | string) ~ ': it must be one of contract, '
        ~ microseg.tracker_event_sources() | join(', ')
        ~ ' (contract reads the events table of the input contract; the others read that tracker\'s tables)') }}
{% endmacro %}

{#- The trackers with an adapter. -#}
{% macro tracker_event_sources() %}
    {{ return(['segment', 'snowplow', 'ga4']) }}
{% endmacro %}

{#- Canonical event types that are no interaction of the person: heartbeats and tracker
    events without a meaning here. They are sessionized (a heartbeat lengthens its
    session) but counted neither as events of a session's depth nor as a person's
    interactions (fct_sessions, int_events_attributed_to_persons). -#}
{% macro non_interaction_event_types() %}
    {{ return(['page_ping', 'other']) }}
{% endmacro %}

{#- True when the event type (a column) is an interaction of the person. -#}
{% macro is_interaction(event_type) -%}
    {{ event_type }} not in ('{{ microseg.non_interaction_event_types() | join("', '") }}')
{%- endmacro %}

{#- The contract's event columns in order, each from `expressions` (column -> SQL) or a
    typed null: timestamps (the expression gives naive UTC), numbers (a vendor's text that
    is no number becomes null), everything else text. -#}
{% macro tracker_contract_select(expressions) -%}
    {%- set number = microseg.tracker_number_type() -%}
    {%- set numbers = {'price': number, 'revenue': number, 'quantity': dbt.type_int()} -%}
    {%- for name in microseg.raw_columns('events') %}
        {%- set expression = expressions.get(name, 'null') %}
        {%- if name in numbers and expression != 'null' %}
        {{ microseg.safe_cast(expression, numbers[name]) }} as {{ name }}
        {%- else %}
        cast({{ expression }} as {{ numbers.get(name) or (dbt.type_timestamp() if name.endswith('_at') else dbt.type_string()) }}) as {{ name }}
        {%- endif %}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- Prices and revenue: a 64-bit float on DuckDB and Snowflake alike (dbt's type_float is
    DuckDB's 32-bit float, which turns 19.99 into 19.9899997). -#}
{% macro tracker_number_type() %}
    {{ return('double') }}
{% endmacro %}

{#- A relation's columns by lower-cased name; empty while parsing, and for none. -#}
{% macro columns_by_name(relation) %}
    {%- set found = {} -%}
    {%- if execute and relation is not none -%}
        {%- for column in microseg.relation_columns(relation) -%}
            {%- do found.update({column.name | lower: column}) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(found) }}
{% endmacro %}

{#- The first of `candidates` that `columns` (from columns_by_name) has, quoted, with an
    optional table prefix; `null` when none is there. Vendors add columns as data
    arrives (Segment creates one only for a property it has seen), so any may be absent. -#}
{% macro first_column(columns, candidates, prefix='') %}
    {%- for name in candidates if name in columns -%}
        {{ return(prefix ~ adapter.quote(columns[name].name)) }}
    {%- endfor -%}
    {{ return('null') }}
{% endmacro %}

{#- The first non-null value of those `candidates` that `columns` has; `null` when it
    has none of them. -#}
{% macro coalesce_columns(columns, candidates, prefix='') %}
    {%- set present = [] -%}
    {%- for name in candidates if name in columns -%}
        {%- do present.append(prefix ~ adapter.quote(columns[name].name)) -%}
    {%- endfor -%}
    {%- if present | length > 1 -%}
        {{ return('coalesce(' ~ present | join(', ') ~ ')') }}
    {%- endif -%}
    {{ return(present[0] if present else 'null') }}
{% endmacro %}

{#- desktop, mobile or tablet from a user agent; null without one. -#}
{% macro device_type_from_user_agent(user_agent) -%}
    {%- set agent = 'lower(' ~ user_agent ~ ')' -%}
    case
        when {{ user_agent }} is null then null
        when {{ microseg.regexp_matches(agent, "'.*(ipad|tablet|kindle|silk|playbook).*'") }}
            or (
                {{ microseg.regexp_matches(agent, "'.*android.*'") }}
                and not {{ microseg.regexp_matches(agent, "'.*mobi.*'") }}
            )
            then 'tablet'
        when {{ microseg.regexp_matches(agent, "'.*(mobi|iphone|ipod|android|blackberry|opera mini|windows phone).*'") }}
            then 'mobile'
        else 'desktop'
    end
{%- endmacro %}

{#- A relation's columns (name, data_type). On DuckDB read with `describe` through
    run_query: dbt-duckdb's get_columns_in_relation opens a transaction that, inside an
    on-run-start hook, is rolled back with everything the hooks wrote (the build ledger). -#}
{% macro relation_columns(relation) %}
    {{ return(adapter.dispatch('relation_columns', 'microseg')(relation)) }}
{% endmacro %}

{#- `dbt compile` needs no warehouse connection: the columns are then taken by name. -#}
{% macro default__relation_columns(relation) %}
    {%- if invocation_args_dict.get('which') == 'compile' -%}
        {{ return([]) }}
    {%- endif -%}
    {{ return(adapter.get_columns_in_relation(relation)) }}
{% endmacro %}

{% macro duckdb__relation_columns(relation) %}
    {%- set columns = [] -%}
    {%- set found = run_query(
        "select count(*) from information_schema.tables where table_catalog = '" ~ relation.database
        ~ "' and table_schema = '" ~ relation.schema ~ "' and table_name = '" ~ relation.identifier ~ "'"
    ).columns[0].values()[0] -%}
    {%- if not found -%}
        {{ return(columns) }}  {#- e.g. while sqlfluff compiles against an empty database -#}
    {%- endif -%}
    {%- for row in run_query('describe select * from ' ~ relation).rows -%}
        {%- do columns.append(api.Column(row[0], row[1])) -%}
    {%- endfor -%}
    {{ return(columns) }}
{% endmacro %}
