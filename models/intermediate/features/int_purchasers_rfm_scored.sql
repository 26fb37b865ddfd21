with

purchasers as (
    select * from {{ ref('int_purchases_aggregated_to_persons') }}
),

scored as (
    select
        person_key,
        cast({{ microseg.quintile_score('days_since_last_purchase desc') }} as integer)
            as recency_score,
        cast({{ microseg.quintile_score('purchases') }} as integer) as frequency_score,
        cast({{ microseg.quintile_score('monetary_value') }} as integer) as monetary_score
    from purchasers
),

combined as (
    select
        *,
        cast(floor((frequency_score + monetary_score + 1) / 2.0) as integer)
            as frequency_monetary_score
    from scored
),

final as (
    select
        person_key,
        recency_score,
        frequency_score,
        monetary_score,
        frequency_monetary_score,
        {{ dbt.concat([
            dbt.cast('recency_score', dbt.type_string()),
            dbt.cast('frequency_score', dbt.type_string()),
            dbt.cast('monetary_score', dbt.type_string()),
        ]) }} as rfm_cell,
        {{ microseg.rfm_class('recency_score', 'frequency_monetary_score') }} as rfm_class
    from combined
)

select * from final
