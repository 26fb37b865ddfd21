with

decisions as (
    select * from {{ ref('base_crm__consent_decisions') }}
),

final as (
    select
        user_id,
        purpose,
        is_granted,
        recorded_at as decided_at,
        consent_record_id,
        quarantine_id,
        quarantine_reason as fail_closed_reason
    from decisions
    where is_in_force
)

select * from final
