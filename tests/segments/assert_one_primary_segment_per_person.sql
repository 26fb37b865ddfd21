-- Every person in the features has exactly one primary segment.
with

features as (
    select * from {{ ref('int_person_features') }}
),

memberships as (
    select * from {{ ref('fct_segment_memberships') }}
),

primaries as (
    select
        person_key,
        count(case when is_primary then 1 end) as primary_segments
    from memberships
    group by 1
)

select
    features.person_key,
    coalesce(primaries.primary_segments, 0) as primary_segments
from features
left join primaries
    on features.person_key = primaries.person_key
where coalesce(primaries.primary_segments, 0) != 1
