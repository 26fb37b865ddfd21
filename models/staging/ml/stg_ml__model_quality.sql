{#- The registry's model quality rows as every layer above staging reads them. -#}

-- Every column of the base model passes through, hence the wildcard.
select * from {{ ref('base_ml__model_quality') }} -- noqa: AM04
