with

person_features as (
    select * from {{ ref('int_person_features') }}
),

scores as (
    select * from {{ ref('int_persons_scored') }}
),

memberships as (
    select * from {{ ref('fct_segment_memberships') }}
),

catalogue as (
    select * from {{ ref('int_segment_catalogue_rendered') }}
),

placements as (
    select
        person_key,
        max(case when is_primary then segment_key end) as primary_segment_key,
        count(case when not is_fallback then 1 end) as segment_count,
        {{ dbt.listagg(
            "case when not is_fallback then segment_key end", "','", 'order by priority'
        ) }} as segment_keys
    from memberships
    group by 1
),

final as (
    select
        person_features.*,
        scores.cluster_label,
        scores.purchase_propensity_percentile,
        scores.churn_risk_percentile,
        placements.primary_segment_key,
        catalogue.segment_name as primary_segment_name,
        catalogue.is_fallback as is_in_fallback_cohort,
        case
            when not catalogue.is_fallback then null
            when person_features.interactions < {{ var('microseg__min_interactions') }}
                then 'too_little_data'
            else 'no_rule_matches'
        end as fallback_reason,
        placements.segment_count,
        placements.segment_keys
    from person_features
    inner join scores
        on person_features.person_key = scores.person_key
    inner join placements
        on person_features.person_key = placements.person_key
    inner join catalogue
        on placements.primary_segment_key = catalogue.segment_key
)

-- Every column of int_person_features passes through, hence the wildcard.
select * from final -- noqa: AM04
