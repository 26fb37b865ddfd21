with

send_log as (
    select * from {{ ref('base_sends__send_log') }}
),

final as (
    select
        {{ microseg.quarantine_id() }} as contact_id,
        user_id,
        channel,
        sent_at,
        campaign_id
    from send_log
    where row_status = 'clean'
)

select * from final
