-- Each session's event_count and positions agree with its events (on an incremental run,
-- the sessions of devices it touched: a session has one device).
{%- set touched = microseg.touched_rows_where('__touched_devices__') %}
with

event_counts as (
    select
        session_id,
        count(*) as events,
        max(event_position) as last_position
    from {{ ref('int_sessionized_events') }}
    where {{ touched }}
    group by 1
)

select
    sessions.session_id,
    sessions.event_count,
    event_counts.events,
    event_counts.last_position
from (
    select * from {{ ref('fct_sessions') }}
    where {{ touched }}
) as sessions
full outer join event_counts on sessions.session_id = event_counts.session_id
where sessions.session_id is null
    or event_counts.session_id is null
    or sessions.event_count != event_counts.events
    or event_counts.last_position != event_counts.events
