with

scores as (
    select * from {{ ref('int_person_scores') }}
),

person_features as (
    select * from {{ ref('int_person_features') }}
),

quality as (
    select * from {{ ref('int_ml_model_quality') }}
),

model_quality as (
    select
        {% for metric in ['k', 'silhouette', 'davies_bouldin', 'within_cluster_sum_of_squares'] -%}
            max(case when metric = '{{ metric }}' then value end) as {{ metric }},
        {% endfor -%}
        model_version
    from quality
    where model_name = 'segmentation' and metric_group = 'summary'
    group by 5
),

profiles as (
    select
        scores.cluster_id,
        scores.cluster_label,
        scores.cluster_model_version,
        count(*) as persons,
        {% for feature in var('microseg__cluster_features') -%}
            avg(person_features.{{ feature }}) as avg_{{ feature }},
        {% endfor -%}
        avg(scores.distance_to_centroid) as avg_distance_to_centroid
    from scores
    inner join person_features
        on scores.person_key = person_features.person_key
    where scores.cluster_id is not null
    group by 1, 2, 3
),

final as (
    select
        profiles.*,
        profiles.persons * 1.0 / sum(profiles.persons) over () as share_of_clustered,
        cast(model_quality.k as {{ dbt.type_int() }}) as k,
        model_quality.silhouette,
        model_quality.davies_bouldin,
        model_quality.within_cluster_sum_of_squares
    from profiles
    inner join model_quality
        on profiles.cluster_model_version = model_quality.model_version
)

select * from final
