with

base_customers as (
    select * from {{ ref('base_crm__customers') }}
),

final as (
    select
        {{ microseg.quarantine_id() }} as quarantine_id,
        quarantine_reason,
        user_id,
        raw_record
    from base_customers
    where row_status = 'quarantined'
)

select * from final
