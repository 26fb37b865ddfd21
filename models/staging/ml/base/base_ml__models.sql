{#- The model registry as `microseg train` wrote it (source ml.ml_models). -#}

with

source as (
    select * from {{ source('ml', 'ml_models') }}
),

final as (
    select
        model_version,
        model_name,
        model_kind,
        cast(trained_at as {{ dbt.type_timestamp() }}) as trained_at,
        cast(training_rows as {{ dbt.type_bigint() }}) as training_rows,
        parameters_json,
        metrics_json
    from source
)

select * from final
