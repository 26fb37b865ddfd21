{#- Aggregate expression: where an incremental run starts re-reading receipts, i.e.
    `microseg__late_arrival_hours` before the newest receipt already processed, or the
    beginning of time when nothing has been processed yet. -#}
{% macro late_window_start(received_column='received_at') -%}
    coalesce(
        {{ dbt.dateadd('hour', -1 * var('microseg__late_arrival_hours'), 'max(' ~ received_column ~ ')') }},
        cast('1900-01-01' as {{ dbt.type_timestamp() }})
    )
{%- endmacro %}
