with

suppressions as (
    select * from {{ ref('base_privacy__suppressions') }}
),

final as (
    select
        {{ microseg.quarantine_id() }} as quarantine_id,
        quarantine_reason,
        raw_record
    from suppressions
    where row_status = 'quarantined'
)

select * from final
