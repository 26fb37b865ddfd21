with

ml_models as (
    select * from {{ ref('int_ml_models') }}
),

final as (
    select
        model_version,
        model_name,
        model_kind,
        trained_at,
        training_rows,
        parameters_json,
        metrics_json
    from ml_models
)

select * from final
