with

sessions as (
    select * from {{ ref('int_sessions') }}
),

-- Consecutive sessions of a device attributed to the same person form one period.
changes as (
    select
        anonymous_id,
        session_id,
        first_event_id,
        person_key,
        user_id,
        started_at,
        ended_at,
        lag(person_key) over (
            partition by anonymous_id order by started_at, first_event_id
        ) as previous_person_key
    from sessions
),

periods as (
    select
        *,
        sum(case when person_key = previous_person_key then 0 else 1 end) over (
            partition by anonymous_id order by started_at, first_event_id
            rows between unbounded preceding and current row
        ) as period_no
    from changes
),

grouped as (
    select
        anonymous_id,
        period_no,
        min(first_session_id) as first_session_id,
        max(person_key) as person_key,
        max(user_id) as user_id,
        min(started_at) as valid_from,
        max(ended_at) as last_seen_at,
        count(*) as sessions
    from (
        select
            *,
            first_value(session_id) over (
                partition by anonymous_id, period_no order by started_at, first_event_id
            ) as first_session_id
        from periods
    ) as periods_with_first_session
    group by 1, 2
),

final as (
    select
        {{ dbt.hash(dbt.concat(["anonymous_id", "'|'", "first_session_id"])) }} as identity_period_id,
        anonymous_id,
        person_key,
        user_id,
        user_id is not null as is_identified,
        valid_from,
        lead(valid_from) over (partition by anonymous_id order by period_no) as valid_to,
        last_seen_at,
        sessions
    from grouped
)

select * from final
