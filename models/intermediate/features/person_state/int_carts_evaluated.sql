{%- set abandon_hours = var('microseg__cart_abandon_hours') -%}

with

person_events as (
    select * from {{ ref('int_events_attributed_to_persons') }}
),

events as (
    select * from {{ ref('stg_tracking__events') }}
),

{{ microseg.changed_persons_ctes('carts_fingerprint') }}

additions as (
    {{ microseg.cart_additions('person_events', 'events', 'changed_persons') }}
),

purchases as (
    select
        person_events.person_key,
        person_events.occurred_at
    from person_events
    inner join changed_persons
        on person_events.person_key = changed_persons.person_key
    where person_events.event_type = 'purchase'
),

-- One cart per session with an add to cart.
carts as (
    select
        person_key,
        session_id,
        min(occurred_at) as started_at,
        max(occurred_at) as last_added_at,
        cast(sum(line_value) as decimal(18, 2)) as cart_value,
        count(*) as additions,
        {{ dbt.listagg('distinct product_id', "','", 'order by product_id') }} as product_ids
    from additions
    group by 1, 2
),

top_categories as (
    select
        session_id,
        category,
        row_number() over (partition by session_id order by count(*) desc, category) as category_rank
    from additions
    where category is not null
    group by 1, 2
),

-- The first purchase by the same person after the cart's last addition.
followed as (
    select
        carts.session_id,
        min(purchases.occurred_at) as next_purchase_at
    from carts
    inner join purchases
        on
            carts.person_key = purchases.person_key
            and carts.last_added_at <= purchases.occurred_at
    group by 1
),

evaluated as (
    select
        carts.*,
        top_categories.category as top_category,
        followed.next_purchase_at,
        coalesce(
            {{ dbt.datediff('carts.last_added_at', 'followed.next_purchase_at', 'second') }}
            <= {{ abandon_hours * 3600 }},
            false
        ) as is_converted
    from carts
    left join top_categories
        on carts.session_id = top_categories.session_id and top_categories.category_rank = 1
    left join followed
        on carts.session_id = followed.session_id
),

final as (
    select
        evaluated.session_id as cart_id,
        evaluated.person_key,
        evaluated.started_at,
        evaluated.last_added_at,
        evaluated.cart_value,
        evaluated.additions,
        evaluated.product_ids,
        evaluated.top_category,
        evaluated.next_purchase_at,
        evaluated.is_converted,
        not evaluated.is_converted as is_abandoned,
        fingerprints.events_fingerprint
    from evaluated
    inner join fingerprints
        on evaluated.person_key = fingerprints.person_key

    {{ microseg.changed_persons_tombstones() }}
)

select * from final
