{#- The one clock for all time-relative logic (var microseg__as_of):
    'data' (default): the latest receipt of a clean event, computed in the warehouse from
    base_tracking__events, so a rebuild of the same data gives the same result (without
    any clean event there is nothing to be relative to: the time of the build);
    'now': the time of the build (production); anything else: that timestamp. -#}
{% macro as_of_timestamp() -%}
    {%- set as_of = var('microseg__as_of') | string | lower -%}
    {%- if as_of == 'now' -%}
        {{ microseg.utc_now() }}
    {%- elif as_of == 'data' -%}
        coalesce(
            (
                select max(received_at) from {{ microseg.model_relation('base_tracking__events') }}
                where row_status = 'clean'
            ),
            {{ microseg.utc_now() }}
        )
    {%- else -%}
        cast('{{ var('microseg__as_of') }}' as {{ dbt.type_timestamp() }})
    {%- endif -%}
{%- endmacro %}

{#- The clock base_tracking__events judges receipts by: a receipt cannot be later than a
    fixed clock, nor, for 'data' and 'now', than the time of the build. -#}
{% macro receipt_clock() -%}
    {%- if var('microseg__as_of') | string | lower in ['data', 'now'] -%}
        {{ microseg.utc_now() }}
    {%- else -%}
        {{ microseg.as_of_timestamp() }}
    {%- endif -%}
{%- endmacro %}

{#- base_tracking__events from the graph, without a ref (every caller reads events, so
    it is built first). A unit test has no graph: it must fix microseg__as_of. -#}
{% macro model_relation(model_name) -%}
    {%- if not execute -%}
        {{- model_name -}}
    {%- endif -%}
    {%- set node = (graph.get('nodes') or {}).get('model.microseg.' ~ model_name) -%}
    {%- if execute and node is none -%}
        {{ exceptions.raise_compiler_error(
            'the data clock needs ' ~ model_name ~ ', which is not in this context: '
            ~ 'a unit test of a time-relative model must set var microseg__as_of to a timestamp') }}
    {%- endif -%}
    {%- if execute -%}
        {{- api.Relation.create(database=node.database, schema=node.schema, identifier=node.alias) -}}
    {%- endif -%}
{%- endmacro %}
