with

base_consents as (
    select * from {{ ref('base_crm__consents') }}
),

final as (
    select
        consent_record_id,
        user_id,
        purpose,
        is_granted,
        recorded_at,
        consent_source,
        row_number() over (
            partition by user_id, purpose order by recorded_at desc
        ) = 1 as is_current
    from base_consents
    where row_status = 'clean'
)

select * from final
