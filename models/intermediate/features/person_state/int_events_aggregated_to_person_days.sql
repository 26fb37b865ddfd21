{#- Clock-free daily state: what the clock-relative features count, per person, day,
    session and category, so that windows and cutoffs read it instead of the events. -#}

with

person_events as (
    select * from {{ ref('int_events_attributed_to_persons') }}
),

{{ microseg.changed_persons_ctes('events_fingerprint') }}

changed_events as (
    select
        person_events.*,
        cast(person_events.occurred_at as date) as activity_date
    from person_events
    inner join changed_persons
        on person_events.person_key = changed_persons.person_key
),

days as (
    select
        person_key,
        activity_date,
        session_id,
        category,
        count(*) as events,
        {% for column, types in microseg.person_day_event_types().items() -%}
            count(case when event_type in ({{ types }}) then 1 end) as {{ column }},
        {% endfor -%}
        count(case when event_type = 'purchase' and discount_code is not null then 1 end)
            as discounted_purchases,
        coalesce(sum(case when event_type = 'purchase' then revenue end), 0) as revenue,
        min(occurred_at) as first_at,
        max(occurred_at) as last_at,
        min(case when event_type = 'purchase' then occurred_at end) as first_purchase_at,
        max(case when event_type = 'purchase' then occurred_at end) as last_purchase_at
    from changed_events
    group by 1, 2, 3, 4
),

final as (
    select
        days.*,
        {{ microseg.is_weekend('days.first_at') }} as is_weekend,
        fingerprints.events_fingerprint
    from days
    inner join fingerprints
        on days.person_key = fingerprints.person_key

    {{ microseg.changed_persons_tombstones() }}
)

select * from final
