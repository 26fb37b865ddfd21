with

base_consents as (
    select * from {{ ref('base_crm__consents') }}
),

final as (
    select
        {{ microseg.quarantine_id() }} as quarantine_id,
        quarantine_reason,
        user_id,
        purpose,
        recorded_at,
        raw_record
    from base_consents
    where row_status = 'quarantined'
)

select * from final
