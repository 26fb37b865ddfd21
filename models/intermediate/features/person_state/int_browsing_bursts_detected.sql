{%- set burst_views = var('microseg__burst_product_views') -%}
{%- set binge_views = var('microseg__category_binge_views') -%}

with

person_events as (
    select * from {{ ref('int_events_attributed_to_persons') }}
),

{{ microseg.changed_persons_ctes('views_fingerprint') }}

changed_views as (
    select
        person_events.person_key,
        person_events.event_id,
        person_events.event_type,
        person_events.occurred_at,
        person_events.category,
        person_events.page_type
    from person_events
    inner join changed_persons
        on person_events.person_key = changed_persons.person_key
    where {{ microseg.feature_inputs('views', 'person_events') }}
),

-- A burst ends at a product view whose (N-1)th predecessor is at most the window before.
product_views as (
    select
        person_key,
        occurred_at,
        lag(occurred_at, {{ burst_views - 1 }}) over (
            partition by person_key order by occurred_at, event_id
        ) as window_opened_at
    from changed_views
    where event_type = 'product_view'
),

category_views as (
    select
        person_key,
        occurred_at,
        lag(occurred_at, {{ binge_views - 1 }}) over (
            partition by person_key, category order by occurred_at, event_id
        ) as window_opened_at
    from changed_views
    where page_type = 'product'
),

bursts as (
    select
        person_key,
        max(occurred_at) as last_product_burst_at,
        cast(null as {{ dbt.type_timestamp() }}) as last_category_binge_at
    from product_views
    where {{ dbt.datediff('window_opened_at', 'occurred_at', 'second') }}
        <= {{ var('microseg__burst_minutes') * 60 }}
    group by 1

    union all

    select
        person_key,
        cast(null as {{ dbt.type_timestamp() }}) as last_product_burst_at,
        max(occurred_at) as last_category_binge_at
    from category_views
    where {{ dbt.datediff('window_opened_at', 'occurred_at', 'second') }}
        <= {{ var('microseg__category_binge_minutes') * 60 }}
    group by 1
),

-- Every changed person with a view gets a row (null when they had no burst), so that
-- the next run sees their fingerprint.
final as (
    select
        changed_persons.person_key,
        max(bursts.last_product_burst_at) as last_product_burst_at,
        max(bursts.last_category_binge_at) as last_category_binge_at,
        max(fingerprints.events_fingerprint) as events_fingerprint
    from changed_persons
    inner join fingerprints
        on changed_persons.person_key = fingerprints.person_key
    left join bursts
        on changed_persons.person_key = bursts.person_key
    group by 1

    {{ microseg.changed_persons_tombstones() }}
)

select * from final
