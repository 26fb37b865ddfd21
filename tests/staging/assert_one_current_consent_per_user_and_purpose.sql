-- The latest record wins: exactly one decision in force per user and purpose.
select
    user_id,
    purpose,
    count(*) as current_records
from {{ ref('stg_crm__consents') }}
group by 1, 2
having sum(case when is_current then 1 else 0 end) != 1
