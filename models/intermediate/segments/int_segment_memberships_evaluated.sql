{{ config(materialized='table') }}

with

person_features as (
    select * from {{ ref('fct_person_features') }}
),

-- Without the ML models (microseg__ml_enabled false) nobody has a score or is a lookalike.
scores as (
    {% if microseg.ml_enabled() -%}
        select * from {{ ref('fct_person_scores') }}
    {%- else -%}
        select
            person_key,
            cast(null as {{ dbt.type_string() }}) as cluster_label,
            cast(null as {{ dbt.type_float() }}) as purchase_propensity_percentile,
            cast(null as {{ dbt.type_float() }}) as churn_risk_percentile
        from person_features
        where false
    {%- endif %}
),

lookalikes as (
    {% if microseg.ml_enabled() -%}
        select * from {{ ref('fct_lookalike_scores') }}
    {%- else -%}
        select
            person_key,
            cast(null as {{ dbt.type_string() }}) as lookalike_key,
            false as is_selected
        from person_features
        where false
    {%- endif %}
),

selected_lookalikes as (
    select
        {% for lookalike in var('microseg__lookalikes') -%}
            {{ dbt.bool_or("lookalike_key = '" ~ lookalike.key ~ "' and is_selected") }}
                as is_lookalike_{{ lookalike.key }},
        {% endfor -%}
        person_key
    from lookalikes
    group by {{ var('microseg__lookalikes') | length + 1 }}
),

-- The person features plus the machine-learned columns segment rules may use.
features as (
    select
        person_features.*,
        {% for lookalike in var('microseg__lookalikes') -%}
            coalesce(selected_lookalikes.is_lookalike_{{ lookalike.key }}, false)
                as is_lookalike_{{ lookalike.key }},
        {% endfor -%}
        scores.cluster_label,
        scores.purchase_propensity_percentile,
        scores.churn_risk_percentile
    from person_features
    left join scores on person_features.person_key = scores.person_key
    left join selected_lookalikes on person_features.person_key = selected_lookalikes.person_key
),

catalogue as (
    {{ microseg.render_segment_catalogue() }}
),

matches as (
    {{ microseg.segment_memberships('features') }}
),

-- Everyone without a segment lands in a fallback cohort.
fallbacks as (
    select
        features.person_key,
        'fallback' as segment_key
    from features
    left join matches
        on features.person_key = matches.person_key
    where matches.person_key is null
),

memberships as (
    select
        {{ dbt.concat(['person_key', "'|'", 'segment_key']) }} as membership_id,
        person_key,
        segment_key
    from (
        select * from matches
        union all
        select * from fallbacks
    ) as unioned
),

final as (
    select
        memberships.membership_id,
        memberships.person_key,
        memberships.segment_key,
        catalogue.parent_segment_key,
        catalogue.priority,
        row_number() over (
            partition by memberships.person_key order by catalogue.priority
        ) = 1 as is_primary,
        {{ microseg.hash_bucket('memberships.membership_id') }} < catalogue.holdout_percent
            as is_holdout,
        {{ microseg.as_of_timestamp() }} as evaluated_at
    from memberships
    inner join catalogue
        on memberships.segment_key = catalogue.segment_key
)

select * from final
