with

erasures as (
    select * from {{ ref('base_privacy__erasures') }}
),

final as (
    select
        identifier_type,
        identifier_hash,
        requested_at
    from erasures
)

select * from final
