{#- The latest models' quality rows as `microseg train` wrote them (source
    ml.ml_model_quality). -#}

with

source as (
    select * from {{ source('ml', 'ml_model_quality') }}
),

final as (
    select
        quality_metric_id,
        model_version,
        model_name,
        metric_group,
        item,
        metric,
        cast(value as double) as value,
        status,
        reason
    from source
)

select * from final
