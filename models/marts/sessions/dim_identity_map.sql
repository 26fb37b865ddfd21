{%- set period_key = dbt.concat(["anonymous_id", "'|'", "cast(valid_from as " ~ dbt.type_string() ~ ")"]) -%}

with

sessions as (
    select * from {{ ref('fct_sessions') }}
),

-- Consecutive sessions of a device attributed to the same person form one period.
changes as (
    select
        anonymous_id,
        session_id,
        person_key,
        user_id,
        started_at,
        ended_at,
        lag(person_key) over (
            partition by anonymous_id order by started_at, session_id
        ) as previous_person_key
    from sessions
),

periods as (
    select
        *,
        sum(case when person_key = previous_person_key then 0 else 1 end) over (
            partition by anonymous_id order by started_at, session_id
            rows between unbounded preceding and current row
        ) as period_no
    from changes
),

grouped as (
    select
        anonymous_id,
        period_no,
        max(person_key) as person_key,
        max(user_id) as user_id,
        min(started_at) as valid_from,
        max(ended_at) as last_seen_at,
        count(*) as sessions
    from periods
    group by 1, 2
),

final as (
    select
        {{ dbt.hash(period_key) }} as identity_period_id,
        anonymous_id,
        person_key,
        user_id,
        user_id is not null as is_identified,
        valid_from,
        lead(valid_from) over (partition by anonymous_id order by valid_from) as valid_to,
        last_seen_at,
        sessions
    from grouped
)

select * from final
