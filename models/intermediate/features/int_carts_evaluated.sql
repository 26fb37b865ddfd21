{%- set as_of = microseg.as_of_timestamp() -%}
{%- set abandon_hours = var('microseg__cart_abandon_hours') -%}

with

person_events as (
    select * from {{ ref('int_events_attributed_to_persons') }}
),

events as (
    select * from {{ ref('stg_tracking__events') }}
),

-- Price and quantity are not carried through sessionization; read them back for carts.
additions as (
    select
        person_events.person_key,
        person_events.session_id,
        person_events.event_id,
        person_events.occurred_at,
        person_events.product_id,
        person_events.category,
        coalesce(events.price, 0) * coalesce(events.quantity, 1) as line_value
    from person_events
    inner join events
        on person_events.event_id = events.event_id
    where person_events.event_type = 'add_to_cart' and events.event_type = 'add_to_cart'
),

purchases as (
    select
        person_key,
        occurred_at
    from person_events
    where event_type = 'purchase'
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
        ) as is_converted,
        {{ dbt.datediff('carts.last_added_at', as_of, 'second') }} < {{ abandon_hours * 3600 }} as is_open -- noqa: LT05
    from carts
    left join top_categories
        on carts.session_id = top_categories.session_id and top_categories.category_rank = 1
    left join followed
        on carts.session_id = followed.session_id
),

final as (
    select
        session_id as cart_id,
        person_key,
        started_at,
        last_added_at,
        cart_value,
        additions,
        product_ids,
        top_category,
        next_purchase_at,
        is_converted,
        not is_converted as is_abandoned,
        is_open
    from evaluated
)

select * from final
