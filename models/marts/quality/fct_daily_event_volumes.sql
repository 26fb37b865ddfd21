with

events as (
    select * from {{ ref('stg_tracking__events') }}
),

daily as (
    select
        {{ dbt.date_trunc('day', 'received_at') }} as received_date,
        count(*) as events
    from events
    where not is_bot
    group by 1
),

final as (
    select
        received_date,
        events,
        avg(events) over (
            order by received_date rows between 7 preceding and 1 preceding
        ) as trailing_7d_avg_events,
        count(*) over (
            order by received_date rows between 7 preceding and 1 preceding
        ) as trailing_days,
        received_date = max(received_date) over () as is_last_day
    from daily
)

select * from final
