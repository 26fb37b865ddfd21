with

source as (
    select {{ microseg.select_raw_columns('events') }}
    from {{ source('tracking', 'events') }}
),

event_type_mapping as (
    select * from {{ ref('event_type_mapping') }}
),

bot_user_agents as (
    select * from {{ ref('bot_user_agents') }}
),

typed as (
    select
        source.*,
        {{ microseg.clean_string('raw_event_id') }} as event_id,
        {{ microseg.clean_string('raw_anonymous_id') }} as anonymous_id,
        {{ microseg.clean_string('raw_user_id') }} as user_id,
        {{ microseg.clean_string('raw_event_type') }} as event_name,
        {{ microseg.safe_cast('raw_occurred_at', dbt.type_timestamp()) }} as occurred_at,
        {{ microseg.safe_cast('raw_received_at', dbt.type_timestamp()) }} as received_at,
        {{ microseg.clean_string('raw_page_url') }} as page_url,
        lower({{ microseg.clean_string('raw_page_category') }}) as page_category,
        {{ microseg.clean_string('raw_product_id') }} as product_id,
        lower({{ microseg.clean_string('raw_product_category') }}) as product_category,
        {{ microseg.safe_cast('raw_price', dbt.type_numeric()) }} as price,
        {{ microseg.safe_cast('raw_quantity', dbt.type_int()) }} as quantity,
        {{ microseg.safe_cast('raw_revenue', dbt.type_numeric()) }} as revenue,
        upper({{ microseg.clean_string('raw_currency') }}) as currency,
        upper({{ microseg.clean_string('raw_discount_code') }}) as discount_code,
        {{ microseg.clean_string('raw_search_query') }} as search_query,
        {{ microseg.clean_string('raw_campaign_id') }} as campaign_id,
        lower({{ microseg.clean_string('raw_utm_source') }}) as utm_source,
        lower({{ microseg.clean_string('raw_utm_medium') }}) as utm_medium,
        lower({{ microseg.clean_string('raw_utm_campaign') }}) as utm_campaign,
        lower({{ microseg.clean_string('raw_device_type') }}) as device_type,
        {{ microseg.clean_string('raw_user_agent') }} as user_agent,
        upper({{ microseg.clean_string('raw_country') }}) as country,
        {{ microseg.clean_string('raw_city') }} as city
    from source
),

mapped as (
    select
        typed.*,
        event_type_mapping.event_type,
        event_type_mapping.event_group
    from typed
    left join event_type_mapping
        on lower(typed.event_name) = event_type_mapping.raw_event_name
),

-- Earliest receipt wins; the other columns only make the order total.
ranked as (
    select
        *,
        row_number() over (
            partition by event_id
            order by
                received_at, occurred_at, event_name, anonymous_id, user_id, revenue, page_url
        ) as event_id_rank
    from mapped
),

triaged as (
    select
        *,
        case
            when event_id is null or (anonymous_id is null and user_id is null)
                then 'missing_id'
            when event_id_rank > 1 then null
            when raw_occurred_at is null or raw_received_at is null then 'missing_timestamp'
            when occurred_at is null or received_at is null then 'invalid_timestamp'
            when event_type is null then 'unknown_event_type'
            when occurred_at > {{ dbt.dateadd(
                    'minute', var('microseg__max_clock_skew_minutes'), 'received_at'
                ) }}
                then 'future_timestamp'
            when occurred_at < cast('{{ var("microseg__data_start_date") }}' as {{ dbt.type_timestamp() }})
                then 'before_start'
            when (raw_price is not null and price is null)
                or (raw_quantity is not null and quantity is null)
                or (raw_revenue is not null and revenue is null)
                then 'invalid_number'
            when revenue < 0 or revenue > {{ var('microseg__max_event_revenue') }} or price < 0
                then 'invalid_revenue'
            when quantity <= 0 or quantity > {{ var('microseg__max_event_quantity') }}
                then 'invalid_quantity'
        end as quarantine_reason
    from ranked
),

with_status as (
    select
        *,
        case
            when quarantine_reason is not null then 'quarantined'
            when event_id_rank > 1 then 'duplicate'
            else 'clean'
        end as row_status
    from triaged
),

bot_agents as (
    select
        user_agents.user_agent,
        min(bot_user_agents.bot_name) as bot_name
    from (
        select distinct user_agent
        from with_status
        where row_status = 'clean'
    ) as user_agents
    inner join bot_user_agents
        on {{ dbt.position('bot_user_agents.pattern', 'lower(user_agents.user_agent)') }} > 0
    group by 1
),

device_minutes as (
    select
        anonymous_id,
        {{ dbt.date_trunc('minute', 'occurred_at') }} as event_minute,
        count(*) as events_in_minute
    from with_status
    where row_status = 'clean' and anonymous_id is not null
    group by 1, 2
),

rapid_fire_devices as (
    select distinct anonymous_id
    from device_minutes
    where events_in_minute > {{ var('microseg__bot_max_events_per_minute') }}
),

final as (
    select
        with_status.event_id,
        with_status.anonymous_id,
        with_status.user_id,
        with_status.event_type,
        with_status.event_group,
        with_status.event_name,
        with_status.occurred_at,
        with_status.received_at,
        with_status.page_url,
        with_status.page_category,
        with_status.product_id,
        with_status.product_category,
        with_status.price,
        with_status.quantity,
        with_status.revenue,
        with_status.currency,
        with_status.discount_code,
        with_status.search_query,
        with_status.campaign_id,
        with_status.utm_source,
        with_status.utm_medium,
        with_status.utm_campaign,
        with_status.device_type,
        with_status.user_agent,
        with_status.country,
        with_status.city,
        with_status.row_status,
        with_status.quarantine_reason,
        case
            when bot_agents.user_agent is not null then 'user_agent'
            when rapid_fire_devices.anonymous_id is not null then 'event_rate'
        end as bot_reason,
        {{ microseg.raw_record('events', 'with_status.row_status') }} as raw_record
    from with_status
    left join bot_agents
        on with_status.user_agent = bot_agents.user_agent
    left join rapid_fire_devices
        on with_status.anonymous_id = rapid_fire_devices.anonymous_id
)

select * from final
