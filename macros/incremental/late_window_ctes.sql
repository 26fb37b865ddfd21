{#- The late-arrival window of an incremental model, as two CTEs (end with a comma):
    `window_bounds` (one row, `window_start`: late_window_start over {{ this }}'s
    `received_column`, rows filtered by `this_filter`) and, when `columns` is given,
    `window_rows`: those columns of every raw row received after window_start, or without
    a receipt time (stg_tracking__event_receipts). Call it only inside
    `{% if is_incremental() %}`, and declare
    `-- depends_on: {{ ref('stg_tracking__event_receipts') }}` in the model. -#}
{% macro late_window_ctes(columns=none, received_column='received_at', this_filter='true') %}
window_bounds as (
    select {{ microseg.late_window_start(received_column) }} as window_start
    from {{ this }}
    where {{ this_filter }}
),
{% if columns %}
window_rows as (
    select {{ columns | join(', ') }}
    from {{ ref('stg_tracking__event_receipts') }}
    where received_at > (select window_start from window_bounds) or received_at is null
),
{% endif %}
{%- endmacro %}
