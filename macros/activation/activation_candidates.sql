{#- The current memberships a sync table may carry, as a query for the sync models'
    first CTE: every membership with the attributes the sync tables need and, per
    channel, whether it may be activated there (is_<channel>_eligible): the segment is
    activatable and lists the channel, the person has an e-mail address and a current
    consent for the channel's purpose (`microseg__channel_consent_purposes`). It holds the
    raw e-mail, so it is never materialized. Grain: one row per membership_id. -#}
{% macro activation_candidates() %}
    {%- set purposes = var('microseg__channel_consent_purposes') %}
    with

    memberships as (
        select * from {{ ref('fct_segment_memberships') }}
    ),

    segments as (
        select * from {{ ref('dim_segments') }}
    ),

    features as (
        select * from {{ ref('dim_persons') }}
    ),

    customers as (
        select * from {{ ref('stg_crm__customers') }}
    ),

    checked as (
        select
            memberships.membership_id,
            memberships.person_key,
            memberships.segment_key,
            segments.segment_name,
            memberships.is_holdout,
            memberships.member_since,
            memberships.updated_at,
            features.user_id,
            customers.email,
            features.country,
            features.preferred_channel,
            features.top_interest,
            features.offer_tier,
            features.rfm_class,
            features.lifecycle_stage,
            features.last_abandoned_cart_product_ids,
            features.last_abandoned_cart_category,
            {% for channel, purpose in purposes.items() -%}
                (
                    segments.is_activatable
                    and {{ dbt.concat(["','", 'segments.channels', "','"]) }} like '%,{{ channel }},%'
                    and customers.email is not null
                    and features.has_consent_{{ purpose }}
                ) as is_{{ channel }}_eligible,
            {% endfor -%}
            features.last_abandoned_cart_value
        from memberships
        inner join segments
            on memberships.segment_key = segments.segment_key
        inner join features
            on memberships.person_key = features.person_key
        left join customers
            on features.user_id = customers.user_id
    )

    select * from checked
{% endmacro %}
