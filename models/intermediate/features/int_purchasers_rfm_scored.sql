{%- set recent_days = var('microseg__recent_buyer_days') -%}
{%- set recent_score = var('microseg__recent_buyer_recency_score') -%}

with

purchasers as (
    select * from {{ ref('int_purchases_aggregated_to_persons') }}
),

scored as (
    select
        person_key,
        days_since_last_purchase <= {{ recent_days }} as is_recent_buyer,
        cast({{ microseg.quintile_score('days_since_last_purchase', descending=true) }} as integer)
            as relative_recency_score,
        cast({{ microseg.quintile_score('purchases') }} as integer) as frequency_score,
        cast({{ microseg.quintile_score('monetary_value') }} as integer) as monetary_score
    from purchasers
),

-- Relative scores alone can rank a recent buyer low (on a short window everyone bought
-- recently): a buyer within the recent-buyer window scores at least the recent score.
combined as (
    select
        *,
        case
            when is_recent_buyer then greatest(relative_recency_score, {{ recent_score }})
            else relative_recency_score
        end as recency_score,
        cast(floor((frequency_score + monetary_score + 1) / 2.0) as integer)
            as frequency_monetary_score
    from scored
),

final as (
    select
        person_key,
        is_recent_buyer,
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
