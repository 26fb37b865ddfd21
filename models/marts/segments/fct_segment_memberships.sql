with

evaluated as (
    select * from {{ ref('int_segment_memberships_evaluated') }}
),

changes as (
    select * from {{ ref('fct_segment_membership_changes') }}
),

catalogue as (
    select * from {{ ref('int_segment_catalogue_rendered') }}
),

-- The current stay in a segment began at the last time the person entered it.
stays as (
    select
        membership_id,
        max(case when change_type = 'entered' then changed_at end) as member_since,
        max(changed_at) as last_changed_at
    from changes
    group by 1
),

final as (
    select
        evaluated.membership_id,
        evaluated.person_key,
        evaluated.segment_key,
        evaluated.parent_segment_key,
        evaluated.priority,
        evaluated.is_primary,
        evaluated.is_holdout,
        catalogue.is_fallback,
        coalesce(stays.member_since, evaluated.evaluated_at) as member_since,
        coalesce(stays.last_changed_at, evaluated.evaluated_at) as updated_at,
        evaluated.evaluated_at
    from evaluated
    inner join catalogue
        on evaluated.segment_key = catalogue.segment_key
    left join stays
        on evaluated.membership_id = stays.membership_id
)

select * from final
