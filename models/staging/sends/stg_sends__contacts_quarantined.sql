with

send_log as (
    select * from {{ ref('base_sends__send_log') }}
),

final as (
    select
        {{ microseg.quarantine_id() }} as quarantine_id,
        quarantine_reason,
        user_id,
        raw_record
    from send_log
    where row_status = 'quarantined'
)

select * from final
