-- Every human event with a device is in exactly the session model, and nothing else is:
-- an event loaded too far out of order, or a device that became a bot, shows up here.
-- On an incremental run, the events of the devices it touched.
{%- set touched = microseg.touched_rows_where('__touched_devices__') %}
with

expected as (
    select event_id
    from {{ ref('stg_tracking__events') }}
    where anonymous_id is not null and not is_bot and {{ touched }}
),

sessionized as (
    select event_id from {{ ref('int_sessionized_events') }}
    where {{ touched }}
),

missing as (
    select
        expected.event_id,
        'not sessionized' as problem
    from expected
    left join sessionized on expected.event_id = sessionized.event_id
    where sessionized.event_id is null
),

unexpected as (
    select
        sessionized.event_id,
        'not a staged human event' as problem
    from sessionized
    left join expected on sessionized.event_id = expected.event_id
    where expected.event_id is null
)

select * from missing
union all
select * from unexpected
