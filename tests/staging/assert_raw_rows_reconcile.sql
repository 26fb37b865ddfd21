-- Nothing is lost in staging: every raw row is clean, quarantined or a duplicate.
with

counts as (
    {{ microseg.reconcile_counts(
        'events', source('tracking', 'events'),
        'stg_tracking__events', 'stg_tracking__events_quarantined', 'base_tracking__events'
    ) }}
    union all
    {{ microseg.reconcile_counts(
        'customers', source('crm', 'customers'),
        'stg_crm__customers', 'stg_crm__customers_quarantined', 'base_crm__customers'
    ) }}
    union all
    {{ microseg.reconcile_counts(
        'consents', source('crm', 'consents'),
        'stg_crm__consents', 'stg_crm__consents_quarantined', 'base_crm__consents'
    ) }}
)

select *
from counts
where raw_rows != clean_rows + quarantined_rows + duplicate_rows
