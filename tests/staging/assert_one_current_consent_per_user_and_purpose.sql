-- The latest record wins: exactly one decision in force per user and purpose, counted over
-- every record that names a person (clean or quarantined). stg_crm__consent_states holds
-- exactly that decision, and a clean record is current in stg_crm__consents exactly when
-- it is the decision in force (none is current when a quarantined record decides).
with

decisions as (
    select
        user_id,
        purpose,
        count(case when is_in_force then 1 end) as decisions_in_force
    from {{ ref('base_crm__consent_decisions') }}
    group by 1, 2
),

states as (
    select
        user_id,
        purpose,
        count(*) as states,
        max(consent_record_id) as consent_record_id
    from {{ ref('stg_crm__consent_states') }}
    group by 1, 2
),

current_records as (
    select
        user_id,
        purpose,
        count(*) as current_records,
        max(consent_record_id) as consent_record_id
    from {{ ref('stg_crm__consents') }}
    where is_current
    group by 1, 2
)

select
    coalesce(decisions.user_id, states.user_id, current_records.user_id) as user_id,
    coalesce(decisions.purpose, states.purpose, current_records.purpose) as purpose,
    decisions.decisions_in_force,
    states.states,
    current_records.current_records
from decisions
full outer join states
    on decisions.user_id = states.user_id and decisions.purpose = states.purpose
full outer join current_records
    on
        coalesce(decisions.user_id, states.user_id) = current_records.user_id
        and coalesce(decisions.purpose, states.purpose) = current_records.purpose
where coalesce(decisions.decisions_in_force, 0) != 1
    or coalesce(states.states, 0) != 1
    or coalesce(current_records.current_records, 0) > 1
    or coalesce(states.consent_record_id, '') != coalesce(current_records.consent_record_id, '')
