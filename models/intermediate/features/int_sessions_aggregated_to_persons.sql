{%- set as_of = microseg.as_of_timestamp() -%}
{%- set active_days = var('microseg__lifecycle_active_days') -%}

with

sessions as (
    select * from {{ ref('int_sessions') }}
),

with_previous as (
    select
        *,
        lag(started_at) over (
            partition by person_key order by started_at, session_id
        ) as previous_started_at
    from sessions
),

dated as (
    select
        person_key,
        started_at,
        duration_seconds,
        -- Depth and activity count interactions: heartbeats (page pings) only lengthen.
        interaction_count as event_count,
        is_bounce,
        {{ microseg.is_weekend('started_at') }} as is_weekend,
        {{ dbt.datediff('started_at', as_of, 'day') }} as days_ago, -- noqa: LT05
        {{ dbt.datediff('previous_started_at', as_of, 'day') }} as previous_days_ago, -- noqa: LT05
        {{ dbt.datediff('previous_started_at', 'started_at', 'second') }} / 86400.0 as days_since_previous_session -- noqa: LT05
    from with_previous
),

final as (
    select
        person_key,
        count(*) as sessions,
        {% for days in [7, 30, 90] -%}
            count(case when days_ago <= {{ days }} then 1 end) as sessions_{{ days }}d,
            cast(sum(case when days_ago <= {{ days }} then event_count else 0 end) as bigint)
                as events_{{ days }}d,
        {% endfor -%}
        min(started_at) as first_session_at,
        max(started_at) as last_session_at,
        avg(duration_seconds) as avg_session_duration_seconds,
        avg(event_count) as avg_session_depth,
        avg(case when is_bounce then 1.0 else 0.0 end) as bounce_rate,
        median(days_since_previous_session) as median_days_between_sessions,
        sum(event_count) / nullif(sum(duration_seconds) / 60.0, 0) as events_per_active_minute,
        avg(case when is_weekend then 1.0 else 0.0 end) as weekend_session_share,
        -- The pause before the person's first session of the active window.
        max(
            case
                when days_ago <= {{ active_days }} and previous_days_ago > {{ active_days }}
                    then days_since_previous_session
            end
        ) as days_paused_before_active_window
    from dated
    group by 1
)

select * from final
