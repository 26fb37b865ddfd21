{%- set as_of = microseg.as_of_timestamp() -%}
{%- set burst_views = var('microseg__burst_product_views') -%}
{%- set binge_views = var('microseg__category_binge_views') -%}

with

person_events as (
    select * from {{ ref('int_events_attributed_to_persons') }}
),

-- A burst ends at a product view whose (N-1)th predecessor is at most the window before.
product_views as (
    select
        person_key,
        occurred_at,
        lag(occurred_at, {{ burst_views - 1 }}) over (
            partition by person_key order by occurred_at, event_id
        ) as window_opened_at
    from person_events
    where event_type = 'product_view'
),

category_views as (
    select
        person_key,
        occurred_at,
        lag(occurred_at, {{ binge_views - 1 }}) over (
            partition by person_key, category order by occurred_at, event_id
        ) as window_opened_at
    from person_events
    where event_type in ('page_view', 'product_view') and page_type = 'product'
),

bursts as (
    select
        person_key,
        max(occurred_at) as last_product_burst_at,
        cast(null as {{ dbt.type_timestamp() }}) as last_category_binge_at
    from product_views
    where {{ dbt.datediff('window_opened_at', 'occurred_at', 'second') }}
        <= {{ var('microseg__burst_minutes') * 60 }}
    group by 1

    union all

    select
        person_key,
        cast(null as {{ dbt.type_timestamp() }}) as last_product_burst_at,
        max(occurred_at) as last_category_binge_at
    from category_views
    where {{ dbt.datediff('window_opened_at', 'occurred_at', 'second') }}
        <= {{ var('microseg__category_binge_minutes') * 60 }}
    group by 1
),

final as (
    select
        person_key,
        max(last_product_burst_at) as last_product_burst_at,
        {{ dbt.datediff('max(last_product_burst_at)', as_of, 'day') }}
            as days_since_last_product_burst,
        max(last_category_binge_at) as last_category_binge_at,
        {{ dbt.datediff('max(last_category_binge_at)', as_of, 'day') }}
            as days_since_last_category_binge
    from bursts
    group by 1
)

select * from final
