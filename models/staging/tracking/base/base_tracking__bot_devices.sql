-- depends_on: {{ ref('base_privacy__erasures') }}
with

contract_events as (
    select * from {{ ref('base_tracking__contract_events') }}
),

-- Every raw row counts, valid or not, duplicates included (as distinct event ids).
device_minutes as (
    select
        {{ microseg.clean_string('anonymous_id') }} as anonymous_id,
        {{ dbt.date_trunc('minute', 'occurred_at') }} as event_minute,
        count(distinct {{ microseg.clean_string('event_id') }}) as events_in_minute
    from contract_events
    where {{ microseg.clean_string('anonymous_id') }} is not null
        and {{ microseg.clean_string('event_id') }} is not null
        and occurred_at is not null
    group by 1, 2
),

final as (
    select
        anonymous_id,
        max(events_in_minute) as peak_events_per_minute
    from device_minutes
    group by 1
    having max(events_in_minute) > {{ var('microseg__bot_max_events_per_minute') }}
)

select * from final
