{#- int_person_features plus the machine-learned columns segment rules and CRM traits
    read: cluster label, propensity percentiles and one is_lookalike_<key> flag per
    lookalike. With the ML models off they are null (flags false). -#}
{{ config(materialized='view') }}

{%- set lookalike_segments = microseg.segment_catalogue('lookalike') %}

with

person_features as (
    select * from {{ ref('int_person_features') }}
),

-- Without the ML models (microseg__ml_enabled false) nobody has a score or is a lookalike.
scores as (
    {% if microseg.ml_enabled() -%}
        select * from {{ ref('int_person_scores') }}
    {%- else -%}
        select
            person_key,
            cast(null as {{ dbt.type_string() }}) as cluster_label,
            cast(null as double) as purchase_propensity_percentile,
            cast(null as double) as churn_risk_percentile
        from person_features
        where false
    {%- endif %}
),

lookalikes as (
    {% if microseg.ml_enabled() -%}
        select * from {{ ref('int_lookalike_scores') }}
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
        {% for lookalike in lookalike_segments -%}
            {{ dbt.bool_or("lookalike_key = '" ~ lookalike.key ~ "' and is_selected") }}
                as is_lookalike_{{ lookalike.key }},
        {% endfor -%}
        person_key
    from lookalikes
    group by {{ lookalike_segments | length + 1 }}
),

final as (
    select
        person_features.*,
        {% for lookalike in lookalike_segments -%}
            coalesce(selected_lookalikes.is_lookalike_{{ lookalike.key }}, false)
                as is_lookalike_{{ lookalike.key }},
        {% endfor -%}
        scores.cluster_label,
        cast(scores.purchase_propensity_percentile as double)
            as purchase_propensity_percentile,
        cast(scores.churn_risk_percentile as double) as churn_risk_percentile
    from person_features
    left join scores on person_features.person_key = scores.person_key
    left join selected_lookalikes on person_features.person_key = selected_lookalikes.person_key
)

-- Every column of int_person_features passes through, hence the wildcard.
select * from final -- noqa: AM04
