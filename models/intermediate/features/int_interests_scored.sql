{%- set as_of = microseg.as_of_timestamp() -%}
{%- set weights = var('microseg__interest_event_weights') -%}

with

person_events as (
    select * from {{ ref('int_events_attributed_to_persons') }}
),

-- Each interaction counts its event type's weight, halved every half-life of age.
weighted as (
    select
        person_key,
        interest,
        occurred_at,
        case event_type
            {% for event_type, weight in weights.items() -%}
                when '{{ event_type }}' then {{ weight }}
            {% endfor -%}
        end
        * power(
            0.5,
            {{ dbt.datediff('occurred_at', as_of, 'second') }}
            / ({{ var('microseg__interest_half_life_days') }} * 86400.0)
        ) as weight
    from person_events
    where interest is not null and interest != 'general'
),

scored as (
    select
        person_key,
        interest,
        sum(weight) as affinity_score,
        count(*) as interactions,
        max(occurred_at) as last_interaction_at
    from weighted
    where weight is not null
    group by 1, 2
),

final as (
    select
        {{ dbt.concat(['person_key', "'|'", 'interest']) }} as person_interest_id,
        person_key,
        interest,
        -- Rounded so that summation order (parallel scans) cannot change the last bit.
        round(affinity_score, 6) as affinity_score,
        round(affinity_score / sum(affinity_score) over (partition by person_key), 6)
            as affinity_share,
        row_number() over (
            partition by person_key order by affinity_score desc, interest asc
        ) as interest_rank,
        interactions,
        last_interaction_at
    from scored
)

select * from final
