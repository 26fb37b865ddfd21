{%- set as_of = microseg.as_of_timestamp() -%}

with

person_events as (
    select * from {{ ref('int_events_attributed_to_persons') }}
),

purchases as (
    select
        person_key,
        occurred_at,
        coalesce(revenue, 0) as revenue,
        discount_code is not null as used_discount,
        {{ dbt.datediff('occurred_at', as_of, 'day') }} as days_ago -- noqa: LT05
    from person_events
    where event_type = 'purchase'
),

final as (
    select
        person_key,
        count(*) as purchases,
        count(case when days_ago <= 30 then 1 end) as purchases_30d,
        count(case when days_ago <= 90 then 1 end) as purchases_90d,
        min(occurred_at) as first_purchase_at,
        max(occurred_at) as last_purchase_at,
        min(days_ago) as days_since_last_purchase,
        cast(sum(revenue) as decimal(18, 2)) as monetary_value,
        cast(sum(case when days_ago <= 90 then revenue else 0 end) as decimal(18, 2)) as revenue_90d,
        avg(case when used_discount then 1.0 else 0.0 end) as discount_purchase_share
    from purchases
    group by 1
)

select * from final
