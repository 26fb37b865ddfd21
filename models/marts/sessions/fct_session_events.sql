{{ config(materialized='view') }}

with

sessionized_events as (
    select * from {{ ref('int_sessionized_events') }}
),

sessions as (
    select * from {{ ref('int_sessions') }}
),

final as (
    select
        sessionized_events.event_id,
        sessionized_events.session_id,
        sessions.person_key,
        sessionized_events.anonymous_id,
        sessionized_events.user_id,
        sessionized_events.event_type,
        sessionized_events.occurred_at,
        sessionized_events.received_at,
        sessionized_events.event_position,
        sessionized_events.seconds_since_previous_event,
        sessionized_events.page_url,
        sessionized_events.page_category,
        sessionized_events.product_id,
        sessionized_events.product_category,
        sessionized_events.revenue,
        sessionized_events.discount_code,
        sessionized_events.campaign_id,
        sessionized_events.device_type,
        sessionized_events.country
    from sessionized_events
    inner join sessions
        on sessionized_events.session_id = sessions.session_id
)

select * from final
