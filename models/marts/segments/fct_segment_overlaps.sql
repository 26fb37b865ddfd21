with

memberships as (
    select * from {{ ref('fct_segment_memberships') }}
),

sizes as (
    select
        segment_key,
        count(*) as member_count
    from memberships
    group by 1
),

pairs as (
    select
        left_side.segment_key,
        right_side.segment_key as other_segment_key,
        count(*) as shared_members
    from memberships as left_side
    inner join memberships as right_side
        on left_side.person_key = right_side.person_key
    group by 1, 2
),

final as (
    select
        {{ dbt.concat(['pairs.segment_key', "'|'", 'pairs.other_segment_key']) }} as overlap_id,
        pairs.segment_key,
        pairs.other_segment_key,
        sizes.member_count,
        other_sizes.member_count as other_member_count,
        pairs.shared_members,
        pairs.shared_members * 1.0 / sizes.member_count as share_also_in_other,
        pairs.shared_members * 1.0
        / (sizes.member_count + other_sizes.member_count - pairs.shared_members) as jaccard_index
    from pairs
    inner join sizes
        on pairs.segment_key = sizes.segment_key
    inner join sizes as other_sizes
        on pairs.other_segment_key = other_sizes.segment_key
)

select * from final
