with

ml_model_quality as (
    select * from {{ ref('int_ml_model_quality') }}
),

final as (
    select
        quality_metric_id,
        model_version,
        model_name,
        metric_group,
        item,
        metric,
        value,
        status,
        reason
    from ml_model_quality
)

select * from final
