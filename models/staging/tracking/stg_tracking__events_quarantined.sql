with

base_events as (
    select * from {{ ref('base_tracking__events') }}
),

final as (
    select
        {{ microseg.quarantine_id() }} as quarantine_id,
        quarantine_reason,
        event_id,
        anonymous_id,
        user_id,
        event_name,
        occurred_at,
        received_at,
        revenue,
        raw_record
    from base_events
    where row_status = 'quarantined'
)

select * from final
