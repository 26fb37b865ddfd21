with

receipts as (
    select * from {{ ref('stg_tracking__event_receipts') }}
),

quarantined as (
    select * from {{ ref('stg_tracking__events_quarantined') }}
),

events as (
    select * from {{ ref('stg_tracking__events') }}
),

taxonomy as (
    select * from {{ ref('interest_taxonomy') }}
),

unknown_names as (
    select
        'event_name' as value_kind,
        lower(event_name) as raw_value,
        count(*) as row_count
    from quarantined
    where quarantine_reason = 'unknown_event_type'
    group by 1, 2
),

categories as (
    select
        'page_category' as value_kind,
        page_category as raw_value
    from events
    where page_category is not null

    union all

    select
        'product_category' as value_kind,
        product_category as raw_value
    from events
    where product_category is not null
),

unmatched_categories as (
    select
        categories.value_kind,
        categories.raw_value,
        count(*) as row_count
    from categories
    left join taxonomy
        on categories.raw_value = taxonomy.category
    where taxonomy.category is null
    group by 1, 2
),

kind_totals as (
    select
        'event_name' as value_kind,
        count(*) as kind_rows
    from receipts

    union all

    select
        value_kind,
        count(*) as kind_rows
    from categories
    group by 1
),

unmapped as (
    select * from unknown_names
    union all
    select * from unmatched_categories
),

final as (
    select
        unmapped.value_kind,
        unmapped.raw_value,
        unmapped.row_count,
        unmapped.row_count * 1.0 / kind_totals.kind_rows as share_of_kind,
        case unmapped.value_kind
            when 'event_name'
                then 'map it in seeds/event_type_mapping.csv (raw_event_name,event_type,event_group)'
            else 'add it to seeds/interest_taxonomy.csv (category,interest,sub_interest,page_type)'
        end as fix
    from unmapped
    inner join kind_totals
        on unmapped.value_kind = kind_totals.value_kind
)

select * from final
