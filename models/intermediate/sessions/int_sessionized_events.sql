-- depends_on: {{ ref('stg_privacy__erasures') }}
-- depends_on: {{ ref('stg_tracking__event_receipts') }}
{{
    config(
        materialized='incremental',
        incremental_strategy='replace_from',
        replace_partition_by='anonymous_id',
        replace_order_by='occurred_at',
        replace_row_marker='event_id',
        on_schema_change='fail',
        post_hook="{{ microseg.purge_erased() }}",
    )
}}

{%- set timeout_minutes = var('microseg__session_timeout_minutes') -%}
{%- set max_session_ms = var('microseg__max_session_hours') * 3600 * 1000 -%}
{%- set device_order = 'partition by anonymous_id order by occurred_at, event_id' -%}
{%- set so_far = device_order ~ ' rows between unbounded preceding and current row' -%}
{%- set before_this = device_order ~ ' rows between unbounded preceding and 1 preceding' -%}
{%- set last_seen = microseg.ignoring_nulls(
    'last_value', 'case when user_id is not null then occurred_at end'
) -%}
{%- set run_first_event = microseg.ignoring_nulls(
    'last_value', 'case when is_run_start then event_id end'
) -%}
{%- set run_start = microseg.ignoring_nulls('last_value', 'case when is_run_start then occurred_at end') -%}
{%- set carried_columns = [
    'received_at', 'event_type', 'page_url', 'page_category', 'product_id',
    'product_category', 'revenue', 'discount_code', 'campaign_id', 'utm_source', 'utm_medium',
    'utm_campaign', 'device_type', 'country',
] -%}

with

-- The columns sessionization needs; the payload is joined back at the end.
events as (
    select
        event_id,
        anonymous_id,
        user_id,
        occurred_at,
        received_at,
        is_bot,
        bot_reason
    from {{ ref('stg_tracking__events') }}
),

{% if is_incremental() %}

-- Everything received since the last run is re-read, with a margin of
-- microseg__late_arrival_hours so that rows loaded out of order are still picked up.
{{ microseg.late_window_ctes(['event_id', 'anonymous_id']) }}

already_sessionized as (
    select
        event_id,
        received_at
    from {{ this }}
    where received_at > (select window_start from window_bounds)
),

-- Human events not yet sessionized in their current form (a new event, or an earlier
-- copy that has since won the deduplication).
new_events as (
    select
        events.anonymous_id,
        events.occurred_at
    from events
    left join already_sessionized
        on
            events.event_id = already_sessionized.event_id
            and events.received_at = already_sessionized.received_at
    where
        events.anonymous_id is not null
        and not events.is_bot
        and already_sessionized.event_id is null
        and events.received_at > (select window_start from window_bounds)
),

-- Sessionized events that staging no longer holds as such: every event of a device the
-- rate rule now calls a bot, and events of which another copy has since won.
rate_bot_devices as (
    select distinct events.anonymous_id
    from events
    inner join (select distinct anonymous_id from window_rows) as touched
        on events.anonymous_id = touched.anonymous_id
    where events.bot_reason = 'event_rate'
),

stale_events as (
    select
        sessionized.anonymous_id,
        sessionized.visit_started_at
    from {{ this }} as sessionized
    inner join rate_bot_devices on sessionized.anonymous_id = rate_bot_devices.anonymous_id

    union all

    select
        sessionized.anonymous_id,
        sessionized.visit_started_at
    from {{ this }} as sessionized
    inner join (select distinct event_id from window_rows) as resent
        on sessionized.event_id = resent.event_id
    left join events
        on
            sessionized.event_id = events.event_id
            and sessionized.received_at = events.received_at
            and not events.is_bot
    where events.event_id is null
),

affected_devices as (
    select
        anonymous_id,
        min(occurred_at) as first_new_at
    from new_events
    group by 1
),

-- Re-sessionize each affected device from the start of the visit that holds its
-- earliest new event, however late that event is (visits start after a gap longer
-- than the timeout, so nothing before that point can change), or from the visit
-- of its earliest stale event.
restart_candidates as (
    select
        affected_devices.anonymous_id,
        coalesce(
            max(sessionized.visit_started_at), affected_devices.first_new_at
        ) as restart_at
    from affected_devices
    left join {{ this }} as sessionized
        on
            affected_devices.anonymous_id = sessionized.anonymous_id
            and sessionized.occurred_at <= affected_devices.first_new_at
    group by affected_devices.anonymous_id, affected_devices.first_new_at

    union all

    select
        anonymous_id,
        visit_started_at as restart_at
    from stale_events
),

restarts as (
    select
        anonymous_id,
        min(restart_at) as restart_at
    from restart_candidates
    group by 1
),

{% endif %}

device_events as (
    select events.*
    from events
    {% if is_incremental() -%}
        inner join restarts
            on
                events.anonymous_id = restarts.anonymous_id
                and events.occurred_at >= restarts.restart_at
    {%- endif %}
    where events.anonymous_id is not null
),

human_events as (
    select
        event_id,
        anonymous_id,
        user_id,
        occurred_at
    from device_events
    where not is_bot
),

with_gaps as (
    select
        *,
        lag(occurred_at) over ({{ device_order }}) as previous_occurred_at
    from human_events
),

-- A visit starts after more than microseg__session_timeout_minutes without an event.
visit_starts as (
    select
        *,
        coalesce(
            occurred_at > {{ dbt.dateadd('minute', timeout_minutes, 'previous_occurred_at') }},
            true
        ) as is_visit_start
    from with_gaps
),

-- One pass in device order: the visit's start and the last user seen before each event.
visits as (
    select
        *,
        max(case when is_visit_start then occurred_at end) over ({{ so_far }}) as visit_started_at,
        {{ microseg.ignoring_nulls('last_value', 'user_id') }} over ({{ before_this }}) as last_user_id,
        {{ last_seen }} over ({{ before_this }}) as last_user_seen_at
    from visit_starts
),

-- A user run starts with the visit, and again whenever another user logs in during it.
run_starts as (
    select
        *,
        is_visit_start or user_id != case
            when last_user_seen_at >= visit_started_at then last_user_id
        end as is_run_start
    from visits
),

user_runs as (
    select
        *,
        {{ run_first_event }} over ({{ so_far }}) as run_first_event_id,
        {{ run_start }} over ({{ so_far }}) as run_started_at
    from run_starts
),

-- Runs longer than microseg__max_session_hours are cut into consecutive sessions.
chunked as (
    select
        *,
        floor({{ dbt.datediff('run_started_at', 'occurred_at', 'millisecond') }} / {{ max_session_ms }}) as run_chunk_no -- noqa: LT05
    from user_runs
),

sessionized as (
    select
        *,
        first_value(event_id) over (
            partition by anonymous_id, run_first_event_id, run_chunk_no
            order by occurred_at, event_id
        ) as session_first_event_id,
        row_number() over (
            partition by anonymous_id, run_first_event_id, run_chunk_no
            order by occurred_at, event_id
        ) as event_position,
        lag(occurred_at) over (
            partition by anonymous_id, run_first_event_id, run_chunk_no
            order by occurred_at, event_id
        ) as previous_session_event_at
    from chunked
),

final as (
    select
        sessionized.event_id,
        {{ dbt.hash("sessionized.session_first_event_id") }} as session_id,
        sessionized.anonymous_id,
        sessionized.occurred_at,
        sessionized.visit_started_at,
        sessionized.event_position,
        {{ dbt.datediff('sessionized.previous_session_event_at', 'sessionized.occurred_at', 'millisecond') }} / 1000.0 as seconds_since_previous_event, -- noqa: LT05
        sessionized.user_id,
        payload.{{ carried_columns | join(',\n        payload.') }}
    from sessionized
    inner join {{ ref('stg_tracking__events') }} as payload
        on sessionized.event_id = payload.event_id

    {% if is_incremental() %}
        union all

        -- Tombstones: widen each device's replacement to its restart point.
        {{ microseg.tombstone_rows('restarts', 'anonymous_id', 'occurred_at', 'restart_at') }}
    {% endif %}
)

select * from final
