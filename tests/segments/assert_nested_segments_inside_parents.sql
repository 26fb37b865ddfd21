-- A member of a nested segment is always a member of its parent.
with

memberships as (
    select * from {{ ref('fct_segment_memberships') }}
)

select child.membership_id
from memberships as child
left join memberships as parent
    on
        child.person_key = parent.person_key
        and child.parent_segment_key = parent.segment_key
where child.parent_segment_key is not null and parent.membership_id is null
