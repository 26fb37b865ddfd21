{%- set as_of = microseg.as_of_timestamp() -%}
{%- set new_days = var('microseg__lifecycle_new_days') -%}
{%- set active_days = var('microseg__lifecycle_active_days') -%}
{%- set lapsed_days = var('microseg__lifecycle_lapsed_days') -%}
{%- set activity_counts = [
    'distinct_pages', 'distinct_categories', 'content_reads', 'video_plays', 'review_views',
    'faq_views', 'product_views', 'searches', 'campaigns_received',
    'campaigns_opened', 'campaigns_clicked',
] -%}

with

customers as (
    select * from {{ ref('stg_crm__customers') }}
),

consent_states as (
    select * from {{ ref('stg_crm__consent_states') }}
),

activity as (
    select * from {{ ref('int_events_aggregated_to_persons') }}
),

session_stats as (
    select * from {{ ref('int_sessions_aggregated_to_persons') }}
),

purchases as (
    select * from {{ ref('int_purchases_aggregated_to_persons') }}
),

rfm as (
    select * from {{ ref('int_purchasers_rfm_scored') }}
),

carts as (
    select * from {{ ref('int_carts_evaluated') }}
),

bursts as (
    select * from {{ ref('int_browsing_bursts_detected') }}
),

interests as (
    select * from {{ ref('int_interests_scored') }}
),

person_days as (
    select * from {{ ref('int_events_aggregated_to_person_days') }}
),

crm as (
    select
        {{ microseg.person_key('user_id', 'null') }} as person_key,
        *
    from customers
),

current_consents as (
    select
        {{ microseg.person_key('user_id', 'null') }} as person_key,
        {% for purpose in var('microseg__consent_purposes') -%}
            {{ dbt.bool_or("purpose = '" ~ purpose ~ "' and is_granted") }} as has_consent_{{ purpose }},
        {% endfor -%}
        max(decided_at) as consent_updated_at
    from consent_states
    group by 1
),

persons as (
    select person_key from crm
    union
    select person_key from activity
    union
    select person_key from session_stats
),

-- The one activity count relative to the clock (the rest are clock-free, kept per person).
recent_content as (
    select
        person_key,
        {{ microseg.count_of('content_interactions', 'true') }} as content_interactions_90d
    from person_days
    where
        content_interactions > 0
        and {{ dbt.datediff(dbt.cast('activity_date', dbt.type_timestamp()), as_of, 'day') }} <= 90 -- noqa: LT05
    group by 1
),

cart_stats as (
    select
        person_key,
        count(*) as carts_started,
        count(case when is_abandoned then 1 end) as carts_abandoned,
        max(case when is_abandoned then last_added_at end) as last_abandoned_cart_at
    from carts
    group by 1
),

last_abandoned_carts as (
    select
        cart_stats.*,
        carts.cart_value as last_abandoned_cart_value,
        carts.product_ids as last_abandoned_cart_product_ids,
        carts.top_category as last_abandoned_cart_category
    from cart_stats
    left join carts
        on
            cart_stats.person_key = carts.person_key
            and cart_stats.last_abandoned_cart_at = carts.last_added_at
            and carts.is_abandoned
),

top_interests as (
    select
        person_key,
        max(case when interest_rank = 1 then interest end) as top_interest,
        max(case when interest_rank = 1 then affinity_share end) as top_interest_share,
        max(case when interest_rank = 2 then interest end) as second_interest
    from interests
    group by 1
),

joined as (
    select
        persons.person_key,
        crm.user_id,
        -- The key of a tracked person is `user:<the user id the tracker sent>`.
        case
            when activity.person_key is not null and persons.person_key like 'user:%'
                then substr(persons.person_key, 6)
        end as tracker_user_id,
        crm.user_id is not null as is_customer_record,
        crm.signed_up_at,
        crm.country,
        crm.birth_year,
        crm.gender,
        crm.preferred_channel,
        coalesce(crm.subscription_status, 'none') as subscription_status,
        crm.email is not null as has_email,
        {% for purpose in var('microseg__consent_purposes') -%}
            coalesce(current_consents.has_consent_{{ purpose }}, false) as has_consent_{{ purpose }},
        {% endfor -%}
        current_consents.consent_updated_at,
        coalesce(activity.interactions, 0) as interactions,
        {{ microseg.least_not_null('activity.first_interaction_at', 'crm.signed_up_at') }} as first_seen_at,
        activity.last_interaction_at as last_seen_at,
        session_stats.last_session_at as last_visit_at,
        coalesce(session_stats.sessions, 0) as sessions,
        {% for days in [7, 30, 90] -%}
            coalesce(session_stats.sessions_{{ days }}d, 0) as sessions_{{ days }}d,
            coalesce(session_stats.events_{{ days }}d, 0) as events_{{ days }}d,
        {% endfor -%}
        session_stats.avg_session_duration_seconds,
        session_stats.avg_session_depth,
        session_stats.bounce_rate,
        session_stats.median_days_between_sessions,
        session_stats.events_per_active_minute,
        session_stats.weekend_session_share,
        session_stats.days_paused_before_active_window,
        {% for column in activity_counts -%}
            coalesce(activity.{{ column }}, 0) as {{ column }},
        {% endfor -%}
        coalesce(recent_content.content_interactions_90d, 0) as content_interactions_90d,
        coalesce(purchases.purchases, 0) as purchases,
        coalesce(purchases.purchases_30d, 0) as purchases_30d,
        coalesce(purchases.purchases_90d, 0) as purchases_90d,
        purchases.first_purchase_at,
        purchases.last_purchase_at,
        purchases.days_since_last_purchase,
        coalesce(rfm.is_recent_buyer, false) as is_recent_buyer,
        coalesce(purchases.monetary_value, 0) as monetary_value,
        coalesce(purchases.revenue_90d, 0) as revenue_90d,
        purchases.monetary_value / nullif(purchases.purchases, 0) as avg_order_value,
        purchases.discount_purchase_share,
        rfm.recency_score,
        rfm.frequency_score,
        rfm.monetary_score,
        rfm.rfm_cell,
        coalesce(rfm.rfm_class, 'non_customer') as rfm_class,
        coalesce(last_abandoned_carts.carts_started, 0) as carts_started,
        coalesce(last_abandoned_carts.carts_abandoned, 0) as carts_abandoned,
        last_abandoned_carts.last_abandoned_cart_at,
        {{ dbt.datediff('last_abandoned_carts.last_abandoned_cart_at', as_of, 'hour') }}
            as hours_since_last_abandoned_cart,
        last_abandoned_carts.last_abandoned_cart_value,
        last_abandoned_carts.last_abandoned_cart_product_ids,
        last_abandoned_carts.last_abandoned_cart_category,
        bursts.last_product_burst_at,
        {{ dbt.datediff('bursts.last_product_burst_at', as_of, 'day') }}
            as days_since_last_product_burst,
        bursts.last_category_binge_at,
        {{ dbt.datediff('bursts.last_category_binge_at', as_of, 'day') }}
            as days_since_last_category_binge,
        top_interests.top_interest,
        top_interests.top_interest_share,
        top_interests.second_interest
    from persons
    left join crm on persons.person_key = crm.person_key
    left join current_consents on persons.person_key = current_consents.person_key
    left join activity on persons.person_key = activity.person_key
    left join recent_content on persons.person_key = recent_content.person_key
    left join session_stats on persons.person_key = session_stats.person_key
    left join purchases on persons.person_key = purchases.person_key
    left join rfm on persons.person_key = rfm.person_key
    left join last_abandoned_carts on persons.person_key = last_abandoned_carts.person_key
    left join bursts on persons.person_key = bursts.person_key
    left join top_interests on persons.person_key = top_interests.person_key
),

dated as (
    select
        *,
        {{ dbt.datediff('first_seen_at', as_of, 'day') }} as days_since_first_seen, -- noqa: LT05
        {{ dbt.datediff('last_seen_at', as_of, 'day') }} as days_since_last_seen, -- noqa: LT05
        {{ dbt.datediff('last_visit_at', as_of, 'day') }} as days_since_last_visit, -- noqa: LT05
        campaigns_opened * 1.0 / nullif(campaigns_received, 0) as email_open_rate,
        campaigns_clicked * 1.0 / nullif(campaigns_received, 0) as email_click_rate
    from joined
),

final as (
    select
        *,
        case
            when last_seen_at is null then 'no_activity'
            when days_since_first_seen <= {{ new_days }} then 'new'
            when days_since_last_seen > {{ lapsed_days }} then 'lapsed'
            when days_since_last_seen > {{ active_days }} then 'at_risk'
            when days_paused_before_active_window > {{ lapsed_days }} then 'reactivated'
            else 'active'
        end as lifecycle_stage,
        case
            when purchases >= 2 then 'retention'
            when purchases = 1 then 'conversion'
            when product_views + searches + carts_started > 0 then 'consideration'
            else 'awareness'
        end as journey_stage,
        case
            when recency_score >= {{ var('microseg__vip_min_recency_score') }}
                and frequency_score + monetary_score
                >= {{ var('microseg__vip_min_frequency_monetary_score') }}
                then 'vip'
            when discount_purchase_share >= {{ var('microseg__discount_min_purchase_share') }} then 'discount'
            when purchases = 0 then 'welcome'
            else 'standard'
        end as offer_tier,
        {{ as_of }} as features_as_of
    from dated
)

select * from final
