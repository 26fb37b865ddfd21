-- depends_on: {{ ref('stg_privacy__erasures') }}
-- depends_on: {{ ref('stg_tracking__event_receipts') }}
{{
    config(
        materialized='incremental',
        incremental_strategy='replace_from',
        replace_partition_by='anonymous_id',
        replace_order_by='started_at',
        replace_row_marker='session_id',
        on_schema_change='fail',
        post_hook="{{ microseg.purge_erased() }}",
    )
}}

{%- set counted_event_types = {
    'page_views': 'page_view',
    'product_views': 'product_view',
    'searches': 'search',
    'add_to_carts': 'add_to_cart',
    'remove_from_carts': 'remove_from_cart',
    'checkouts_started': 'checkout_started',
    'purchases': 'purchase',
    'content_reads': 'content_read',
    'video_plays': 'video_played',
    'logins': 'login',
    'signups': 'signup',
    'page_pings': 'page_ping',
} -%}
{#- Sessions of a device are rebuilt whole, because a later login re-attributes its
    earlier anonymous sessions; the sentinel start deletes them all first. -#}
{%- set before_all_sessions = "cast('1900-01-01' as " ~ dbt.type_timestamp() ~ ")" -%}

with

sessionized_events as (
    select * from {{ ref('int_sessionized_events') }}
),

{% if is_incremental() %}

-- The devices int_sessionized_events may have changed this run: any raw row of theirs
-- was received in the window.
{{ microseg.late_window_ctes(['anonymous_id'], received_column='last_received_at') }}

affected_devices as (
    select distinct anonymous_id
    from window_rows
    where anonymous_id is not null
),

{% endif %}

device_events as (
    select sessionized_events.*
    from sessionized_events
    {% if is_incremental() -%}
        inner join affected_devices
            on sessionized_events.anonymous_id = affected_devices.anonymous_id
    {%- endif %}
),

ordered_events as (
    select
        *,
        row_number() over (
            partition by session_id order by occurred_at desc, event_id desc
        ) as position_from_end
    from device_events
),

sessions as (
    select
        session_id,
        anonymous_id,
        max(user_id) as session_user_id,
        min(occurred_at) as started_at,
        max(occurred_at) as ended_at,
        max(received_at) as last_received_at,
        max(case when event_position = 1 then event_id end) as first_event_id,
        count(*) as event_count,
        -- Heartbeats and tracker events without a meaning here lengthen the session but
        -- are no interaction: they count in event_count only.
        sum(case when {{ microseg.is_interaction('event_type') }} then 1 else 0 end) as interaction_count,
        {% for column, event_type in counted_event_types.items() -%}
            sum(case when event_type = '{{ event_type }}' then 1 else 0 end) as {{ column }},
        {% endfor -%}
        count(distinct coalesce(product_category, page_category)) as distinct_categories,
        coalesce(sum(case when event_type = 'purchase' then revenue end), 0) as revenue,
        max(case when event_position = 1 then page_url end) as landing_page_url,
        max(case when position_from_end = 1 then page_url end) as exit_page_url,
        max(case when event_position = 1 then utm_source end) as utm_source,
        max(case when event_position = 1 then utm_medium end) as utm_medium,
        max(case when event_position = 1 then utm_campaign end) as utm_campaign,
        max(case when event_position = 1 then device_type end) as device_type,
        max(case when event_position = 1 then country end) as country
    from ordered_events
    group by 1, 2
),

-- Who a session belongs to: its own logged-in user, else the next user to log in on
-- the device (retroactive stitching), else the last one before, else the device.
attributed as (
    select
        *,
        coalesce(
            session_user_id,
            {{ microseg.ignoring_nulls('first_value', 'session_user_id') }} over (
                partition by anonymous_id order by started_at, first_event_id
                rows between 1 following and unbounded following
            ),
            {{ microseg.ignoring_nulls('last_value', 'session_user_id') }} over (
                partition by anonymous_id order by started_at, first_event_id
                rows between unbounded preceding and 1 preceding
            )
        ) as person_user_id
    from sessions
),

final as (
    select
        session_id,
        {{ microseg.person_key('person_user_id', 'anonymous_id') }} as person_key,
        person_user_id as user_id,
        session_user_id is not null as is_identified,
        anonymous_id,
        started_at,
        ended_at,
        {{ dbt.datediff('started_at', 'ended_at', 'millisecond') }} / 1000.0 as duration_seconds, -- noqa: LT05
        first_event_id,
        last_received_at,
        event_count,
        interaction_count,
        {% for column in counted_event_types -%}
            {{ column }},
        {% endfor -%}
        distinct_categories,
        revenue,
        interaction_count <= 1 as is_bounce,
        (
            {{ dbt.datediff('started_at', 'ended_at', 'millisecond') }} >= {{ var('microseg__engaged_session_seconds') * 1000 }} -- noqa: LT05
            or page_views + product_views >= 2
            or purchases > 0
        ) as is_engaged,
        purchases > 0 as is_converted,
        add_to_carts > 0 and purchases = 0 as has_abandoned_cart,
        landing_page_url,
        exit_page_url,
        utm_source,
        utm_medium,
        utm_campaign,
        {{ microseg.channel_grouping('utm_source', 'utm_medium') }} as channel,
        device_type,
        country
    from attributed

    {% if is_incremental() %}
        union all

        {{ microseg.tombstone_rows('affected_devices', 'anonymous_id', 'started_at', before_all_sessions) }}
    {% endif %}
)

select * from final
