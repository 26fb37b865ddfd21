{{ config(materialized='table') }}

with

features as (
    select * from {{ ref('int_persons_scored') }}
),

catalogue as (
    {{ microseg.render_segment_catalogue() }}
),

matches as (
    {{ microseg.segment_memberships('features') }}
),

-- Everyone without a segment lands in a fallback cohort.
fallbacks as (
    select
        features.person_key,
        'fallback' as segment_key
    from features
    left join matches
        on features.person_key = matches.person_key
    where matches.person_key is null
),

memberships as (
    select
        {{ dbt.concat(['person_key', "'|'", 'segment_key']) }} as membership_id,
        person_key,
        segment_key
    from (
        select * from matches
        union all
        select * from fallbacks
    ) as unioned
),

final as (
    select
        memberships.membership_id,
        memberships.person_key,
        memberships.segment_key,
        catalogue.parent_segment_key,
        catalogue.priority,
        row_number() over (
            partition by memberships.person_key order by catalogue.priority
        ) = 1 as is_primary,
        {{ microseg.hash_bucket('memberships.membership_id') }} < catalogue.holdout_percent
            as is_holdout,
        {{ microseg.as_of_timestamp() }} as evaluated_at
    from memberships
    inner join catalogue
        on memberships.segment_key = catalogue.segment_key
)

select * from final
