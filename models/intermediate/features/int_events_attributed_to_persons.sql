{{ config(materialized='table') }}

with

sessionized_events as (
    select * from {{ ref('int_sessionized_events') }}
),

sessions as (
    select * from {{ ref('fct_sessions') }}
),

events as (
    select * from {{ ref('stg_tracking__events') }}
),

taxonomy as (
    select * from {{ ref('interest_taxonomy') }}
),

web_events as (
    select
        sessions.person_key,
        sessionized_events.event_id,
        sessionized_events.session_id,
        sessionized_events.event_type,
        sessionized_events.occurred_at,
        sessionized_events.page_url,
        coalesce(
            sessionized_events.product_category, sessionized_events.page_category
        ) as category,
        sessionized_events.product_id,
        sessionized_events.revenue,
        sessionized_events.discount_code,
        sessionized_events.campaign_id
    from sessionized_events
    inner join sessions
        on sessionized_events.session_id = sessions.session_id
),

-- Server-side events (e-mail, CRM) carry a user and no device: they belong to the user.
deviceless_events as (
    select
        {{ microseg.person_key('user_id', 'anonymous_id') }} as person_key,
        event_id,
        cast(null as {{ dbt.type_string() }}) as session_id,
        event_type,
        occurred_at,
        page_url,
        coalesce(product_category, page_category) as category,
        product_id,
        revenue,
        discount_code,
        campaign_id
    from events
    where anonymous_id is null and user_id is not null and not is_bot
),

unioned as (
    select * from web_events
    union all
    select * from deviceless_events
),

final as (
    select
        unioned.*,
        taxonomy.interest,
        taxonomy.page_type
    from unioned
    left join taxonomy
        on unioned.category = taxonomy.category
)

select * from final
