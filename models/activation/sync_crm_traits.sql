with

candidates as (
    {{ microseg.activation_candidates() }}
),

persons as (
    select * from {{ ref('dim_persons') }}
),

segments as (
    select * from {{ ref('dim_segments') }}
),

crm_memberships as (
    select
        user_id,
        max(person_key) as person_key,
        max({{ microseg.hashed_email('email', salted=true) }}) as email_sha256_salted,
        -- Semicolons: how HubSpot multiple checkboxes and Salesforce multi-select picklists
        -- take several values (segment keys cannot hold one: microseg.rules.KEY_PATTERN).
        {{ dbt.listagg('segment_key', "';'", 'order by segment_key') }} as segment_keys,
        {{ dbt.listagg(
            "case when is_holdout then segment_key end", "';'", 'order by segment_key'
        ) }} as holdout_segment_keys,
        max(updated_at) as updated_at
    from candidates
    where is_crm_eligible
    group by 1
),

final as (
    select
        crm_memberships.user_id,
        crm_memberships.email_sha256_salted,
        crm_memberships.segment_keys,
        crm_memberships.holdout_segment_keys,
        -- A withheld (or fallback) primary segment is not named to the CRM.
        case
            when primary_segments.is_activatable then persons.primary_segment_key
        end as primary_segment_key,
        persons.rfm_class,
        persons.lifecycle_stage,
        persons.journey_stage,
        persons.top_interest,
        persons.offer_tier,
        persons.cluster_label,
        persons.purchase_propensity_percentile,
        persons.churn_risk_percentile,
        crm_memberships.updated_at
    from crm_memberships
    inner join persons
        on crm_memberships.person_key = persons.person_key
    left join segments as primary_segments
        on persons.primary_segment_key = primary_segments.segment_key
)

select * from final
