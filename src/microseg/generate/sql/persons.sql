create table persons as
with base as (
    select
        r.p as person_no,
        u(r.p, 0, 1) as u_archetype
    from range(${n_persons}) as r (p)
)

select
    base.person_no,
    archetypes.name as archetype,
    -- name: a column of archetypes (renamed archetype above)
    archetypes.* exclude (name),  -- noqa: RF02
    least(200, pow(1 - u(base.person_no, 0, 2), -1 / 1.6)) * archetypes.activity as weight,
    u(base.person_no, 0, 3) < archetypes.p_known as is_known,
    'u' || lpad(base.person_no::varchar, 7, '0') as user_id,
    1 + (u(base.person_no, 0, 4) < 0.35)::int + (u(base.person_no, 0, 5) < 0.10)::int as n_devices,
    floor(u(base.person_no, 0, 6) * ${n_categories})::int as favourite_category,
    ${places}[1 + floor(u(base.person_no, 0, 7) * ${n_places})::int] as place,
    split_part(place, '|', 1) as country,
    split_part(place, '|', 2) as city,
    u(base.person_no, 0, 8) < ${shared_device_rate} and base.person_no > 0 as borrows_device,
    1 + floor(u(base.person_no, 0, 9) * 3)::int as burst,
    u(base.person_no, 0, 10) as u_login,
    u(base.person_no, 0, 11) as u_signup
from base
inner join archetypes
    on base.u_archetype >= archetypes.share_lo and base.u_archetype < archetypes.share_hi
