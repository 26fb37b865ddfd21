with

sessions as (
    select * from {{ ref('int_sessions') }}
),

-- The public copy of int_sessions, in the contract's portable types (DuckDB sums counts
-- into hugeint).
final as (
    select
        session_id,
        person_key,
        user_id,
        is_identified,
        anonymous_id,
        started_at,
        ended_at,
        duration_seconds,
        first_event_id,
        last_received_at,
        event_count,
        cast(interaction_count as {{ dbt.type_bigint() }}) as interaction_count,
        cast(page_views as {{ dbt.type_bigint() }}) as page_views,
        cast(product_views as {{ dbt.type_bigint() }}) as product_views,
        cast(searches as {{ dbt.type_bigint() }}) as searches,
        cast(add_to_carts as {{ dbt.type_bigint() }}) as add_to_carts,
        cast(remove_from_carts as {{ dbt.type_bigint() }}) as remove_from_carts,
        cast(checkouts_started as {{ dbt.type_bigint() }}) as checkouts_started,
        cast(purchases as {{ dbt.type_bigint() }}) as purchases,
        cast(content_reads as {{ dbt.type_bigint() }}) as content_reads,
        cast(video_plays as {{ dbt.type_bigint() }}) as video_plays,
        cast(logins as {{ dbt.type_bigint() }}) as logins,
        cast(signups as {{ dbt.type_bigint() }}) as signups,
        cast(page_pings as {{ dbt.type_bigint() }}) as page_pings,
        distinct_categories,
        cast(revenue as decimal(38, 6)) as revenue,
        is_bounce,
        is_engaged,
        is_converted,
        has_abandoned_cart,
        landing_page_url,
        exit_page_url,
        utm_source,
        utm_medium,
        utm_campaign,
        channel,
        device_type,
        country
    from sessions
)

select * from final
