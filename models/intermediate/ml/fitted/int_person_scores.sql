{#- Every person's cluster and propensity scores from the latest registered models, in plain
    SQL from their stored parameters (macros/ml/ml_registry.sql), so that every warehouse
    scores. Columns of a model that was never trained are null. -#}
-- depends_on: {{ ref('int_ml_models') }}
{{ config(materialized='table') }}

{%- set models = microseg.latest_ml_models() -%}
{%- set segmentation = models.get('segmentation') %}

with

person_features as (
    select * from {{ ref('int_person_features') }}
),

feature_snapshots as (
    select * from {{ ref('int_person_features_at_cutoffs') }}
),

centroid_distances as (
    {% if segmentation -%}
        {%- set distances = microseg.ml_centroid_distances(segmentation.parameters, 'person_features') %}
        select
            person_key,
            {% for distance in distances -%}
                {{ distance }} as distance_{{ loop.index }}{{ ',' if not loop.last }}
            {% endfor -%}
        from person_features
        where interactions >= {{ var('microseg__min_interactions') }}
    {%- else -%}
        select person_key
        from person_features
        where false
    {%- endif %}
),

nearest_centroids as (
    select
        *,
        {% if segmentation -%}
            least(
                {%- for label in segmentation.parameters['labels'] %}
                distance_{{ loop.index }}{{ ',' if not loop.last }}
                {%- endfor %}
            ) as nearest_distance
        {%- else -%}
            cast(null as double) as nearest_distance
        {%- endif %}
    from centroid_distances
),

clusters as (
    select
        person_key,
        {% if segmentation -%}
            case
                {% for label in segmentation.parameters['labels'] -%}
                    when distance_{{ loop.index }} = nearest_distance then {{ loop.index }}
                {% endfor -%}
            end as cluster_id,
            case
                {% for label in segmentation.parameters['labels'] -%}
                    when distance_{{ loop.index }} = nearest_distance then '{{ label }}'
                {% endfor -%}
            end as cluster_label,
            '{{ segmentation.version }}' as cluster_model_version,
        {% else -%}
            cast(null as {{ dbt.type_int() }}) as cluster_id,
            cast(null as {{ dbt.type_string() }}) as cluster_label,
            cast(null as {{ dbt.type_string() }}) as cluster_model_version,
        {% endif -%}
        round(nearest_distance, 6) as distance_to_centroid
    from nearest_centroids
),

purchase_propensity_scores as (
    {{ microseg.ml_propensity_scores(
        'purchase_propensity', models.get('purchase_propensity'), 'feature_snapshots', false) }}
),

churn_risk_scores as (
    {{ microseg.ml_propensity_scores('churn_risk', models.get('churn_risk'), 'feature_snapshots', true) }}
),

final as (
    select
        person_features.person_key,
        person_features.features_as_of as scored_at,
        clusters.cluster_id,
        clusters.cluster_label,
        clusters.distance_to_centroid,
        clusters.cluster_model_version,
        purchase_propensity_scores.purchase_propensity,
        purchase_propensity_scores.purchase_propensity_percentile,
        purchase_propensity_scores.purchase_propensity_model_version,
        churn_risk_scores.churn_risk,
        churn_risk_scores.churn_risk_percentile,
        churn_risk_scores.churn_risk_model_version
    from person_features
    left join clusters on person_features.person_key = clusters.person_key
    left join purchase_propensity_scores
        on person_features.person_key = purchase_propensity_scores.person_key
    left join churn_risk_scores on person_features.person_key = churn_risk_scores.person_key
)

select * from final
