-- depends_on: {{ ref('stg_privacy__erasures') }}
-- depends_on: {{ ref('stg_tracking__event_receipts') }}
{{
    config(
        materialized='incremental',
        incremental_strategy='replace_from',
        replace_partition_by='attribution_key',
        replace_order_by='occurred_at',
        replace_row_marker='event_id',
        on_schema_change='fail',
        post_hook="{{ microseg.purge_erased() }}",
    )
}}

{#- A device's or user's events are rebuilt whole: a later login re-attributes the
    device's earlier sessions, so the sentinel start deletes all its rows first. -#}
{%- set before_all_events = "cast('1900-01-01' as " ~ dbt.type_timestamp() ~ ")" -%}

with

sessionized_events as (
    select * from {{ ref('int_sessionized_events') }}
),

sessions as (
    select * from {{ ref('int_sessions') }}
),

events as (
    select * from {{ ref('stg_tracking__events') }}
),

taxonomy as (
    select * from {{ ref('interest_taxonomy') }}
),

{% if is_incremental() %}

-- Devices and users with a raw row received since this table was last built (with the
-- late-arrival margin): only their events can have changed upstream, in sessions,
-- stitching, deduplication or bot flags.
{{ microseg.late_window_ctes(['anonymous_id', 'user_id']) }}

affected_devices as (
    select distinct anonymous_id
    from window_rows
    where anonymous_id is not null
),

affected_users as (
    select distinct user_id
    from window_rows
    where user_id is not null
),

affected as (
    select {{ dbt.concat(["'device:'", 'anonymous_id']) }} as attribution_key
    from affected_devices

    union all

    select {{ dbt.concat(["'user:'", 'user_id']) }} as attribution_key
    from affected_users
),

{% endif %}

web_events as (
    select
        {{ dbt.concat(["'device:'", 'sessionized_events.anonymous_id']) }} as attribution_key,
        sessions.person_key,
        sessionized_events.event_id,
        sessionized_events.session_id,
        sessionized_events.event_type,
        sessionized_events.occurred_at,
        sessionized_events.received_at,
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
    {% if is_incremental() -%}
        inner join affected_devices
            on sessionized_events.anonymous_id = affected_devices.anonymous_id
    {%- endif %}
    -- Heartbeats and tracker events without a meaning here are no interactions: they
    -- lengthen sessions (fct_sessions) and are counted nowhere else.
    where {{ microseg.is_interaction('sessionized_events.event_type') }}
),

-- Server-side events (e-mail, CRM) carry a user and no device: they belong to the user.
deviceless_events as (
    select
        {{ dbt.concat(["'user:'", 'events.user_id']) }} as attribution_key,
        {{ microseg.person_key('events.user_id', 'events.anonymous_id') }} as person_key,
        events.event_id,
        cast(null as {{ dbt.type_string() }}) as session_id,
        events.event_type,
        events.occurred_at,
        events.received_at,
        events.page_url,
        coalesce(events.product_category, events.page_category) as category,
        events.product_id,
        events.revenue,
        events.discount_code,
        events.campaign_id
    from events
    {% if is_incremental() -%}
        inner join affected_users
            on events.user_id = affected_users.user_id
    {%- endif %}
    where
        events.anonymous_id is null and events.user_id is not null and not events.is_bot
        and {{ microseg.is_interaction('events.event_type') }}
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

    {% if is_incremental() %}
        union all

        -- Tombstones: every affected device's and user's rows are replaced.
        {{ microseg.tombstone_rows('affected', 'attribution_key', 'occurred_at', before_all_events) }}
    {% endif %}
)

select * from final
