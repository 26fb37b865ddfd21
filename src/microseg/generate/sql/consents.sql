create table consents as
with decisions as (
    select
        customers.user_id,
        customers.signed_up_at,
        p.purpose_no,
        ${purposes}[p.purpose_no + 1] as purpose,
        (hash(customers.user_id) % 1000003)::bigint as user_key
    from customers
    cross join range(4) as p (purpose_no)
    where customers.dirt_kind is null
),

records as (
    select
        user_id,
        case when u(user_key, purpose_no, 110) < 0.05 then upper(purpose[1]) || purpose[2:]
            else purpose
        end as purpose,
        u(user_key, purpose_no, 111) < ${grant_rates}[purpose_no + 1]
            as is_granted,
        signed_up_at as recorded_at,
        'signup_form' as source,
        user_key,
        purpose_no
    from decisions
    union all
    select
        user_id,
        purpose,
        false as is_granted,
        signed_up_at + to_days(1 + floor(u(user_key, purpose_no, 113) * 150)::int)
            as recorded_at,
        case when purpose = 'email_marketing' then 'unsubscribe_link'
            else 'preference_center'
        end as source,
        user_key,
        purpose_no
    from decisions
    where u(user_key, purpose_no, 112) < 0.12
),

dirtied as (
    select
        user_id,
        case when u(user_key, purpose_no + 10 * epoch(recorded_at)::bigint, 114)
                < ${consent_unknown_purpose_rate}
                then ['sms_marketing', 'Marketing', 'cookies', 'newsletter'][purpose_no + 1]
            else purpose
        end as purpose,
        is_granted,
        recorded_at,
        source,
        case when u(user_key, purpose_no + 10 * epoch(recorded_at)::bigint, 114)
                < ${consent_unknown_purpose_rate}
                then 'unknown_purpose'
        end as dirt_kind,
        u(user_key, purpose_no + 10 * epoch(recorded_at)::bigint, 115) as u_copy
    from records
)

select * exclude (u_copy) from dirtied
union all
select * exclude (u_copy) replace ('duplicate' as dirt_kind)
from dirtied
where dirt_kind is null and u_copy < ${consent_duplicate_rate}
union all
select
    null as user_id,
    'analytics' as purpose,
    true as is_granted,
    ${window_start} as recorded_at,
    'cookie_banner' as source,
    'missing_id' as dirt_kind
from range(${consents_missing_id})
