with

base_customers as (
    select * from {{ ref('base_crm__customers') }}
),

final as (
    select
        user_id,
        email,
        signed_up_at,
        country,
        birth_year,
        gender,
        preferred_channel,
        subscription_status
    from base_customers
    where row_status = 'clean'
)

select * from final
