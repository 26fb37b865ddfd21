with

suppressions as (
    select * from {{ ref('base_privacy__suppressions') }}
),

final as (
    select
        {{ microseg.quarantine_id() }} as suppression_id,
        user_id,
        email_sha256,
        reason,
        suppressed_at
    from suppressions
    where row_status = 'clean'
)

select * from final
