{#- Counts DuckDB sums into hugeint, cast to the contract's bigint. -#}
{%- set counts = [
    'interaction_count', 'page_views', 'product_views', 'searches', 'add_to_carts',
    'remove_from_carts', 'checkouts_started', 'purchases', 'content_reads', 'video_plays',
    'logins', 'signups', 'page_pings'] %}
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
        {% for count in counts -%}
            cast({{ count }} as {{ dbt.type_bigint() }}) as {{ count }},
        {% endfor -%}
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
