create table sessions as
with scale as (
    select ${web_budget} / sum(weight * expected_events) as sessions_per_weight
    from persons
),

counted as (
    select
        persons.*,
        greatest(1, round(persons.weight * scale.sessions_per_weight))::int as n_sessions
    from persons cross join scale
),

expanded as (
    select
        *,
        unnest(range(n_sessions)) as session_no
    from counted
),

shaped as (
    select
        *,
        session_no // burst as cluster_no,
        ceil(n_sessions / burst) as n_clusters,
        case
            when not is_known then null
            when u_login < 0.4 and archetype != 'newcomer' then -1
            else floor(u_login * least(n_sessions, 6))::int
        end as login_session_no,
        floor(u(person_no, session_no, 20) * n_devices)::int as device_no
    from expanded
),

timed as (
    select
        *,
        ${days} * (
            window_lo + (window_hi - window_lo)
            * (cluster_no + 0.8 * u(person_no, cluster_no, 21)) / n_clusters
        ) as day_offset,
        6 + 17 * pow((u(person_no, cluster_no, 22) + u(person_no, cluster_no, 23)) / 2, 0.6)
        + (session_no % burst) * (1.5 + 5 * u(person_no, session_no, 24)) as hour_offset
    from shaped
),

dated as (
    select
        *,
        ${window_start} + to_days(floor(day_offset)::int) as session_day
    from timed
),

weekend_shifted as (
    select
        *,
        case
            when weekend_only and dayofweek(session_day) between 1 and 5
                then session_day + to_days(6 - dayofweek(session_day))
            else session_day
        end as shifted_day
    from dated
),

located as (
    select
        *,
        case
            when shifted_day >= ${window_end} then shifted_day - to_days(7)
            else shifted_day
        end + to_milliseconds(floor(hour_offset * 3600000)::bigint) as started_at,
        case when borrows_device and device_no = 1 and n_devices > 1
                then person_no - 1
            else person_no
        end as device_owner,
        case when borrows_device and device_no = 1 and n_devices > 1
                then 0
            else device_no
        end as owner_device_no
    from weekend_shifted
)

select
    person_no,
    session_no,
    archetype,
    user_id,
    is_known,
    country,
    city,
    favourite_category,
    focus,
    p_discount,
    price_factor,
    purchase_until,
    mix_cumulative,
    login_session_no,
    u_signup < 0.5 or archetype = 'newcomer' as signs_up_in_window,
    started_at,
    case when session_no = login_session_no then greatest(n_events, 3)
        else n_events
    end as n_events,
    gap_seconds * (0.5 + u(person_no, session_no, 25)) as gap_seconds,
    hex_id(device_owner, owner_device_no, 30) as anonymous_id,
    case
        when u(device_owner, owner_device_no, 31) < 0.45 then 'desktop'
        when u(device_owner, owner_device_no, 31) < 0.90 then 'mobile'
        else 'tablet'
    end as device_type,
    u(device_owner, owner_device_no, 32) as u_browser,
    u(person_no, session_no, 33) as u_channel
from (
    select
        *,
        case
            when u(person_no, session_no, 26) < p_bounce then 1
            else least(60, 2 + floor(
                    -ln(1 - u(person_no, session_no, 27))
                    * (mean_events - 2)
                ))::int
        end as n_events
    from located
) as sized
where started_at < ${last_session_start}
