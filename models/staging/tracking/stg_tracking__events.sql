with

base_events as (
    select * from {{ ref('base_tracking__events') }}
),

final as (
    select
        event_id,
        anonymous_id,
        user_id,
        event_type,
        event_group,
        event_name,
        occurred_at,
        received_at,
        {{ dbt.datediff('occurred_at', 'received_at', 'second') }} as arrival_delay_seconds, -- noqa: LT05
        page_url,
        page_category,
        product_id,
        product_category,
        price,
        quantity,
        revenue,
        currency,
        discount_code,
        search_query,
        campaign_id,
        utm_source,
        utm_medium,
        utm_campaign,
        device_type,
        user_agent,
        country,
        city,
        bot_reason is not null as is_bot,
        bot_reason
    from base_events
    where row_status = 'clean'
)

select * from final
