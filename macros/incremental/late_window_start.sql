{#- Aggregate expression: where an incremental run starts re-reading receipts, i.e.
    `microseg__late_arrival_hours` before the newest receipt already processed, the
    beginning of time when nothing has been processed yet, and earlier still when raw
    events were loaded since the last run with older receipt times (a backfill, found
    by the build ledger at the start of the run). -#}
{% macro late_window_start(received_column='received_at') -%}
    {%- set usual -%}
        coalesce(
            {{ dbt.dateadd('hour', -1 * var('microseg__late_arrival_hours'), 'max(' ~ received_column ~ ')') }},
            cast('1900-01-01' as {{ dbt.type_timestamp() }})
        )
    {%- endset -%}
    least({{ usual }}, coalesce({{ microseg.current_backfill_from() }}, {{ usual }}))
{%- endmacro %}
