{#- dbt's `where` test config, plus the scope of `microseg__tests_scoped_to_changes`: every
    test of a model listed there checks only the rows an incremental run can have
    rewritten. Three placeholders: `__touched_rows__` (rows whose event, device or user has
    a raw row received in this invocation's late window), `__touched_devices__` (rows of
    those devices) and `__touched_attribution_keys__` (rows of those devices and users by
    attribution key). On a first or full build, or outside a build that recorded its
    window, a placeholder is `true`: all rows. -#}
{% macro default__get_where_subquery(relation) -%}
    {%- set where = config.get('where') or '' -%}
    {%- set scope = var('microseg__tests_scoped_to_changes', {}).get(relation.identifier) -%}
    {%- if scope -%}
        {%- set where = ('(' ~ where ~ ') and ' if where else '') ~ scope -%}
    {%- endif -%}
    {%- if '__touched_' in where -%}
        {%- set where = microseg.touched_rows_where(where) -%}
    {%- endif -%}
    {%- if where -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{% macro touched_rows_where(where) -%}
    {%- set changed_from = microseg.changed_from() -%}
    {%- set receipts -%}
        {{ microseg.sibling_relation('_staging', 'stg_tracking__event_receipts') }}
        where received_at > cast('{{ changed_from }}' as {{ dbt.type_timestamp() }}) or received_at is null
    {%- endset -%}
    {%- set devices = 'anonymous_id in (select anonymous_id from ' ~ receipts ~ ')' -%}
    {%- set conditions = {
        '__touched_devices__': devices,
        '__touched_rows__': '(event_id in (select event_id from ' ~ receipts ~ ') or ' ~ devices
            ~ ' or user_id in (select user_id from ' ~ receipts ~ '))',
        '__touched_attribution_keys__': '(attribution_key in (select '
            ~ dbt.concat(["'device:'", 'anonymous_id']) ~ ' from ' ~ receipts
            ~ ') or attribution_key in (select ' ~ dbt.concat(["'user:'", 'user_id']) ~ ' from '
            ~ receipts ~ '))',
    } -%}
    {%- set rendered = namespace(where=where) -%}
    {%- for placeholder, condition in conditions.items() -%}
        {%- set rendered.where = rendered.where | replace(
            placeholder, 'true' if changed_from is none else condition) -%}
    {%- endfor -%}
    {{ return(rendered.where) }}
{%- endmacro %}

{#- This invocation's recorded window start (events_changed_from), or none. -#}
{% macro changed_from() -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set ledger = adapter.get_relation(
        database=target.database, schema=microseg.ledger_schema(), identifier='build_windows') -%}
    {%- if ledger is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set rows = run_query(
        "select max(changed_from) from " ~ ledger ~ " where invocation_id = '" ~ invocation_id ~ "'").rows -%}
    {{ return(rows[0][0] if rows and rows[0][0] is not none else none) }}
{%- endmacro %}

{% macro sibling_relation(schema_suffix, identifier) -%}
    {{ adapter.get_relation(database=target.database, schema=target.schema ~ schema_suffix, identifier=identifier) }}
{%- endmacro %}
