{#- What each person-level incremental model reads, and so hashes (changed_persons_ctes). -#}
{%- set hashed = {
    'events': [
        'event_id', 'session_id', 'event_type', 'occurred_at', 'page_url', 'category', 'page_type',
        'campaign_id', 'revenue', 'discount_code',
    ],
    'views': ['event_id', 'event_type', 'occurred_at', 'category', 'page_type'],
    'interests': ['event_id', 'event_type', 'occurred_at', 'interest'],
    'additions': ['event_id', 'session_id', 'occurred_at', 'product_id', 'category', 'line_value'],
    'purchases': ['event_id', 'session_id', 'occurred_at'],
} -%}

with

person_events as (
    select * from {{ ref('int_events_attributed_to_persons') }}
),

events as (
    select * from {{ ref('stg_tracking__events') }}
),

additions as (
    {{ microseg.cart_additions('person_events', 'events') }}
),

-- A person's carts depend on their additions and, once they have one, their purchases.
cart_inputs as (
    select
        person_key,
        {{ microseg.row_hash(hashed['additions']) }} as row_hash,
        1 as is_addition
    from additions

    union all

    select
        person_key,
        {{ microseg.row_hash(hashed['purchases']) }} as row_hash,
        0 as is_addition
    from person_events
    where event_type = 'purchase'
),

carts as (
    select
        person_key,
        sum(row_hash) as carts_fingerprint
    from cart_inputs
    group by 1
    having max(is_addition) = 1
),

per_person as (
    select
        person_key,
        sum({{ microseg.row_hash(hashed['events']) }}) as events_fingerprint,
        sum(
            case when {{ microseg.feature_inputs('views') }} then {{ microseg.row_hash(hashed['views']) }} end
        ) as views_fingerprint,
        sum(
            case
                when {{ microseg.feature_inputs('interests') }}
                    then {{ microseg.row_hash(hashed['interests']) }}
            end
        ) as interests_fingerprint,
        max(case when {{ microseg.feature_inputs('interests') }} then occurred_at end)
            as last_interest_at
    from person_events
    group by 1
),

final as (
    select
        per_person.*,
        carts.carts_fingerprint
    from per_person
    left join carts
        on per_person.person_key = carts.person_key
)

select * from final
