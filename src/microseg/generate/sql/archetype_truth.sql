select
    'user:' || user_id as person_key,
    archetype
from persons
where is_known
union all
select
    'anon:' || anonymous_id as person_key,
    mode(archetype) as archetype
from sessions
group by 1
