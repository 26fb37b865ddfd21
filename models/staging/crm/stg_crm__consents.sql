with

decisions as (
    select * from {{ ref('base_crm__consent_decisions') }}
),

final as (
    select
        consent_record_id,
        user_id,
        purpose,
        is_granted,
        recorded_at,
        consent_source,
        is_in_force as is_current
    from decisions
    where row_status = 'clean'
)

select * from final
