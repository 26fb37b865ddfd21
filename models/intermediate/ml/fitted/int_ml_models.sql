{#- The model registry as `microseg train` left it (source ml via stg_ml__models). -#}
{{ config(materialized='view') }}

-- Every column of the staged registry passes through, hence the wildcard.
select * from {{ ref('stg_ml__models') }} -- noqa: AM04
