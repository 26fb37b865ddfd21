{%- set weights = var('microseg__interest_event_weights') -%}

with

person_events as (
    select * from {{ ref('int_events_attributed_to_persons') }}
),

fingerprinted as (
    select * from {{ ref('int_person_event_fingerprints') }}
),

{{ microseg.changed_persons_ctes('interests_fingerprint') }}

anchored as (
    select
        person_events.person_key,
        person_events.event_type,
        person_events.occurred_at,
        person_events.interest,
        fingerprinted.last_interest_at as person_last_interaction_at
    from person_events
    inner join changed_persons
        on person_events.person_key = changed_persons.person_key
    inner join fingerprinted
        on person_events.person_key = fingerprinted.person_key
    where {{ microseg.feature_inputs('interests', 'person_events') }}
),

-- Each interaction counts its event type's weight, halved every half-life of its age at
-- the person's last interaction: moving the clock scales all of a person's scores alike.
weighted as (
    select
        person_key,
        interest,
        occurred_at,
        person_last_interaction_at,
        case event_type
            {% for event_type, weight in weights.items() -%}
                when '{{ event_type }}' then {{ weight }}
            {% endfor -%}
        end
        * power(
            0.5,
            {{ dbt.datediff('occurred_at', 'person_last_interaction_at', 'second') }}
            / ({{ var('microseg__interest_half_life_days') }} * 86400.0)
        ) as weight
    from anchored
),

scored as (
    select
        person_key,
        interest,
        sum(weight) as affinity_score,
        count(*) as interactions,
        max(occurred_at) as last_interaction_at,
        max(person_last_interaction_at) as person_last_interaction_at
    from weighted
    group by 1, 2
),

final as (
    select
        {{ dbt.concat(['scored.person_key', "'|'", 'scored.interest']) }} as person_interest_id,
        scored.person_key,
        scored.interest,
        -- Rounded so that summation order (parallel scans) cannot change the last bit.
        round(scored.affinity_score, 6) as affinity_score,
        round(
            scored.affinity_score / sum(scored.affinity_score) over (partition by scored.person_key),
            6
        ) as affinity_share,
        row_number() over (
            partition by scored.person_key order by scored.affinity_score desc, scored.interest asc
        ) as interest_rank,
        scored.interactions,
        scored.last_interaction_at,
        scored.person_last_interaction_at,
        fingerprints.events_fingerprint
    from scored
    inner join fingerprints
        on scored.person_key = fingerprints.person_key

    {{ microseg.changed_persons_tombstones() }}
)

select * from final
