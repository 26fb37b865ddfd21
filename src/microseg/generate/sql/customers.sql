create table customers as
with known as (
    select
        persons.person_no,
        persons.user_id,
        persons.country,
        persons.archetype,
        signups.signed_up_at
    from persons
    inner join signups on persons.person_no = signups.person_no
),

base as (
    select
        *,
        u(person_no, 0, 100) as u_dirt,
        ${first_names}[1 + person_no % ${n_first_names}] || '.'
        || ${last_names}[1 + (person_no // 7) % ${n_last_names}]
        || (person_no % 1000)::varchar as local_part,
        ${email_domains}[1 + person_no % ${n_email_domains}] as domain
    from known
),

shaped as (
    select
        user_id,
        case
            when u_dirt < ${customer_invalid_email_rate}
                then
                    [
                        local_part || '(at)' || domain, local_part || '@',
                        local_part || '@@' || domain, local_part || ' ' || domain, 'n/a'][
                        1 + floor(u_dirt * 1e6 % 5)::int
                    ]
            when u(person_no, 0, 101) < 0.03 then null
            when u(person_no, 0, 101) < 0.15
                then '  ' || upper(local_part[1]) || local_part[2:] || '@' || domain
            else local_part || '@' || domain
        end as email,
        signed_up_at,
        case when u(person_no, 0, 102) < 0.1 then lower(country)
            when u(person_no, 0, 102) < 0.13 then null else country
        end as country,
        case
            when u(person_no, 0, 103) < 0.2 then null
            when u(person_no, 0, 103) < 0.21 then [1800, 2099, 0][1 + person_no % 3]
            else 1950 + floor(u(person_no, 0, 104) * 55)::int
        end as birth_year,
        ['F', 'female', 'm', 'Male', 'diverse', null, 'prefer not to say'][
            1 + floor(u(person_no, 0, 105) * 7)::int
        ] as gender,
        ['email', 'E-Mail', 'sms', 'push', null][
            1 + floor(u(person_no, 0, 106) * 5)::int
        ] as preferred_channel,
        case
            when archetype = 'loyal_subscriber'
                then ['active', 'Active', 'subscribed'][
                        1 + person_no % 3
                    ]
            when u(person_no, 0, 107) < 0.1 then 'cancelled'
            when u(person_no, 0, 107) < 0.15 then 'canceled'
        end as subscription_status,
        case when u_dirt < ${customer_invalid_email_rate} then 'invalid_email' end
            as dirt_kind,
        u(person_no, 0, 108) as u_copy
    from base
)

select * exclude (u_copy) from shaped
union all
select
    * exclude (u_copy) replace (
        signed_up_at - to_days(400) as signed_up_at, 'duplicate' as dirt_kind
    )
from shaped
where dirt_kind is null and u_copy < ${customer_duplicate_rate}
union all
select
    null as user_id,
    'orphan' || t.r || '@example.com' as email,
    ${window_start} as signed_up_at,
    'DE' as country,
    null as birth_year,
    null as gender,
    null as preferred_channel,
    null as subscription_status,
    'missing_id' as dirt_kind
from range(${customers_missing_id}) as t (r)
