{#- The latest models' quality rows as `microseg train` left them (stg_ml__model_quality). -#}
{{ config(materialized='view') }}

-- Every column of the staged registry passes through, hence the wildcard.
select * from {{ ref('stg_ml__model_quality') }} -- noqa: AM04
