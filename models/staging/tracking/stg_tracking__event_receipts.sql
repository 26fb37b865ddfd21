-- Every raw row, whatever staging made of it: what incremental models above staging
-- read to find the devices and users touched since their last run (late_window_ctes).
with

events as (
    select * from {{ ref('base_tracking__events') }}
),

final as (
    select
        raw_row_hash,
        raw_row_occurrence,
        event_id,
        anonymous_id,
        user_id,
        received_at,
        row_status
    from events
)

select * from final
