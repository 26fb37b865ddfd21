-- Nothing is lost in staging: every raw row is clean, quarantined, a duplicate, or
-- belongs to a person who asked to be erased.
-- depends_on: {{ ref('base_privacy__erasures') }}
{%- set user_id = microseg.clean_string('user_id') %}
with

counts as (
    {{ microseg.reconcile_counts(
        'events', '(' ~ microseg.contract_events_select(microseg.tracking_events_relation()) ~ ') as raw_events',
        'stg_tracking__events', 'stg_tracking__events_quarantined', 'base_tracking__events',
        {user_id: 'user_id', microseg.clean_string('anonymous_id'): 'anonymous_id'}
    ) }}
    union all
    {{ microseg.reconcile_counts(
        'customers', source('crm', 'customers'),
        'stg_crm__customers', 'stg_crm__customers_quarantined', 'base_crm__customers',
        {user_id: 'user_id', 'lower(' ~ microseg.clean_string('email') ~ ')': 'email'}
    ) }}
    union all
    {{ microseg.reconcile_counts(
        'consents', source('crm', 'consents'),
        'stg_crm__consents', 'stg_crm__consents_quarantined', 'base_crm__consents',
        {user_id: 'user_id'}
    ) }}
)

select *
from counts
where raw_rows != clean_rows + quarantined_rows + duplicate_rows + erased_rows
