{%- set as_of = microseg.as_of_timestamp() -%}

with

person_days as (
    select * from {{ ref('int_events_aggregated_to_person_days') }}
),

purchase_days as (
    select
        person_key,
        purchases,
        discounted_purchases,
        revenue,
        first_purchase_at,
        last_purchase_at,
        {{ dbt.datediff(dbt.cast('activity_date', dbt.type_timestamp()), as_of, 'day') }} as days_ago -- noqa: LT05
    from person_days
    where purchases > 0
),

final as (
    select
        person_key,
        {{ microseg.count_of('purchases', 'true') }} as purchases,
        {{ microseg.count_of('purchases', 'days_ago <= 30') }} as purchases_30d,
        {{ microseg.count_of('purchases', 'days_ago <= 90') }} as purchases_90d,
        min(first_purchase_at) as first_purchase_at,
        max(last_purchase_at) as last_purchase_at,
        min(days_ago) as days_since_last_purchase,
        cast(sum(revenue) as decimal(18, 2)) as monetary_value,
        cast(sum(case when days_ago <= 90 then revenue else 0 end) as decimal(18, 2)) as revenue_90d,
        sum(discounted_purchases) / {{ dbt.cast('sum(purchases)', 'double') }} as discount_purchase_share
    from purchase_days
    group by 1
)

select * from final
