create table events as
with web_expanded as (
    select
        *,
        person_no * 100000 + session_no as session_key,
        unnest(range(n_events)) as k
    from sessions
),

web_typed as (
    select
        *,
        session_no = login_session_no and k = n_events // 2 as is_login_event,
        session_no > login_session_no
        or (session_no = login_session_no and k >= n_events // 2) as is_identified,
        u(session_key, k, 40) as u_type,
        case
            when u(session_key, k, 41) < focus then favourite_category
            else floor(u(session_key, k, 42) * ${n_categories})::int
        end as category_no,
        started_at + to_milliseconds(
            floor((k + 0.9 * u(session_key, k, 43)) * gap_seconds * 1000)
            ::bigint
        ) as occurred_at,
        floor(u(session_key, k, 44) * 20)::int as sku_no
    from web_expanded
),

web_canonical as (
    select
        *,
        case
            when is_login_event
                then case when signs_up_in_window then 'signup'
                        else 'login'
                    end
            when k = 0 then 'page_view'
            ${session_event_picks}
            else 'page_view'
        end as picked_type,
        epoch(occurred_at - ${window_start}) / (${days} * 86400.0) as window_position
    from web_typed
),

web_gated as (
    select
        *,
        case when picked_type = 'purchase' and window_position > purchase_until
                then 'product_view'
            else picked_type
        end as canonical_type,
        ${product_categories}[category_no + 1] as category,
        printf('SKU-%02d%03d', category_no, sku_no) as sku,
        round(
            ${base_prices}[category_no + 1]
            * (0.6 + 0.8 * u(category_no, sku_no, 45)) * price_factor, 2
        ) as unit_price,
        1 + (u(session_key, k, 46) < 0.2)::int
        + (u(session_key, k, 47) < 0.05)::int as units,
        u(session_key, k, 48) < p_discount as uses_discount,
        case
            when u_channel < 0.35 then null
            when u_channel < 0.60 then 'google|organic|'
            when u_channel < 0.72 then 'google|cpc|brand_search'
            when u_channel < 0.82 then 'instagram|social|summer_drop'
            when u_channel < 0.92 then 'newsletter|email|weekly_digest'
            else 'partner-blog.example|referral|'
        end as utm
    from web_canonical
),

web as (
    select
        hex_id(session_key, k, 50)
        || hex_id(session_key, k, 51) as event_id,
        anonymous_id,
        case when is_identified then user_id end as user_id,
        ${web_event_type}
            as event_type,
        occurred_at,
        occurred_at + to_milliseconds(
            200 + floor(u(session_key, k, 53) * 2800)::bigint
        ) as received_at,
        case
            when canonical_type in ('product_view', 'add_to_cart', 'remove_from_cart')
                then category
            when canonical_type in ('content_read', 'video_played')
                then ${content_categories}[category_no + 1]
            when canonical_type in ('checkout_started', 'purchase') then 'checkout'
            when canonical_type in ('login', 'signup') then 'account'
            when canonical_type = 'search' then 'search'
            when u_type < 0.4 then 'home'
            when u_type < 0.7 then category
            when u_type < 0.8 then 'reviews'
            when u_type < 0.85 then 'faq'
            else ${content_categories}[category_no + 1]
        end as page_category,
        case when canonical_type in (
                    'product_view', 'add_to_cart', 'remove_from_cart', 'purchase'
                ) then sku
        end as product_id,
        case when canonical_type in (
                    'product_view', 'add_to_cart', 'remove_from_cart', 'purchase'
                ) then category
        end as product_category,
        case when canonical_type in (
                    'product_view', 'add_to_cart', 'remove_from_cart', 'purchase'
                ) then unit_price
        end as price,
        case when canonical_type in ('add_to_cart', 'purchase') then units end as quantity,
        case when canonical_type = 'purchase'
                then round(unit_price * units * case when uses_discount then 0.85 else 1 end, 2)
        end as revenue,
        case when canonical_type = 'purchase'
                then case when u_type < 0.05 then 'eur' else 'EUR' end
        end as currency,
        case when canonical_type = 'purchase' and uses_discount
                then ${discount_codes}[1 + floor(u_type * 4)::int]
        end as discount_code,
        case when canonical_type = 'search'
                then ${search_terms}[category_no + 1]
        end as search_query,
        case when k = 0 and utm like '%|email|%'
                then printf('cmp-%03d', floor(epoch(occurred_at - ${window_start}) / 604800)::int)
        end as campaign_id,
        case when k = 0 then nullif(split_part(utm, '|', 1), '') end as utm_source,
        case when k = 0 then nullif(split_part(utm, '|', 2), '') end as utm_medium,
        case when k = 0 then nullif(split_part(utm, '|', 3), '') end as utm_campaign,
        device_type,
        ${human_user_agent} as user_agent,
        case when u_browser < 0.05 then lower(country) else country end as country,
        city,
        person_no,
        false as is_bot_source
    from web_gated
),

sends as (
    select
        persons.person_no,
        persons.user_id,
        persons.country,
        persons.city,
        persons.p_email_open,
        persons.p_email_click,
        campaigns.campaign_no,
        ${window_start} + to_days(campaigns.campaign_no * 7 + 1) + to_hours(9)
        + to_minutes(floor(u(persons.person_no, campaigns.campaign_no, 60) * 90)::int) as sent_at
    from persons
    inner join signups on persons.person_no = signups.person_no
    cross join range(${n_campaigns}) as campaigns (campaign_no)
    where u(persons.person_no, campaigns.campaign_no, 61) < 0.35
        and signups.signed_up_at
        < ${window_start} + to_days(campaigns.campaign_no * 7 + 1)
),

email_steps as (
    select
        *,
        unnest(case
            when u(person_no, campaign_no, 62) >= p_email_open then ['email_sent']
            when u(person_no, campaign_no, 63) >= p_email_click
                then ['email_sent', 'email_opened']
            else ['email_sent', 'email_opened', 'email_clicked']
        end) as canonical_type,
        to_minutes(30 + floor(u(person_no, campaign_no, 64) * 2800)::int) as open_delay
    from sends
),

email as (
    select
        hex_id(person_no, campaign_no, 70) || hex_id(person_no, len(canonical_type), 71)
            as event_id,
        null as anonymous_id,
        user_id,
        ${email_event_type} as event_type,
        case canonical_type
            when 'email_sent' then sent_at
            when 'email_opened' then sent_at + open_delay
            else sent_at + open_delay + to_seconds(20 + person_no % 300)
        end as occurred_at,
        occurred_at + to_seconds(1 + campaign_no % 5) as received_at,
        null as page_category,
        null as product_id,
        null as product_category,
        null::double as price,
        null::integer as quantity,
        null::double as revenue,
        null as currency,
        null as discount_code,
        null as search_query,
        printf('cmp-%03d', campaign_no) as campaign_id,
        null as utm_source,
        null as utm_medium,
        null as utm_campaign,
        null as device_type,
        null as user_agent,
        country,
        city,
        person_no,
        false as is_bot_source
    from email_steps
),

bot_sessions as (
    select
        b.bot_no,
        s.session_no,
        ${window_start} + to_seconds(
            floor(u(b.bot_no, s.session_no, 80) * (${days} * 86400 - 7200))::bigint
        ) as started_at,
        200 as n_events
    from range(${bot_devices}) as b (bot_no)
    cross join range(${bot_sessions_per_device})
        as s (session_no)
),

bots as (
    select
        hex_id(bot_no * 100000 + session_no, k, 81)
        || hex_id(bot_no * 100000 + session_no, k, 82) as event_id,
        hex_id(-1 - bot_no, 0, 30) as anonymous_id,
        null as user_id,
        case when k % 3 = 0 then 'page_view' else 'product_view' end as event_type,
        started_at + to_milliseconds(
            (k * (500 + 500 * u(bot_no, session_no, 83)))::bigint
        ) as occurred_at,
        occurred_at + to_milliseconds(150) as received_at,
        ${product_categories}[1 + k % ${n_categories}] as page_category,
        null as product_id,
        null as product_category,
        null::double as price,
        null::integer as quantity,
        null::double as revenue,
        null as currency,
        null as discount_code,
        null as search_query,
        null as campaign_id,
        null as utm_source,
        null as utm_medium,
        null as utm_campaign,
        'desktop' as device_type,
        case when u(bot_no, 0, 84) < 0.6
                then ${bot_user_agents}[1 + bot_no % ${n_bot_user_agents}]
            else ${first_desktop_user_agent}[1]
        end as user_agent,
        'US' as country,
        'Seattle' as city,
        -1 - bot_no as person_no,
        true as is_bot_source
    from (
        select
            *,
            unnest(range(n_events)) as k
        from bot_sessions
    ) as bot_events
),

combined as (
    select * from web
    union all
    select * from email
    union all
    select * from bots
),

clean as (
    select
        event_id,
        anonymous_id,
        user_id,
        event_type,
        occurred_at,
        received_at,
        'https://shop.example.com/' || coalesce(page_category, '')
        || coalesce('/' || lower(product_id), '')
        || coalesce('?utm_source=' || utm_source || '&utm_medium=' || utm_medium, '')
            as page_url,
        page_category,
        product_id,
        product_category,
        price,
        quantity,
        revenue,
        currency,
        discount_code,
        search_query,
        campaign_id,
        utm_source,
        utm_medium,
        utm_campaign,
        device_type,
        user_agent,
        country,
        city,
        is_bot_source,
        u(hash(event_id), 0, 90) as u_dirt
    from combined
),

dirtied as (
    select
        *,
        ${event_dirt_kind} as dirt_kind,
        (hash(event_id, 91) % 1000000007)::bigint as dirt_no
    from clean
),

with_dirt as (
    select
        case
            when dirt_kind = 'missing_id' and dirt_no % 3 < 1 then null
            when dirt_kind = 'missing_id' and dirt_no % 3 < 2 then '  '
            else event_id
        end as event_id,
        case when dirt_kind = 'missing_id' and dirt_no % 3 >= 2 then null
            else anonymous_id
        end as anonymous_id,
        case when dirt_kind = 'missing_id' and dirt_no % 3 >= 2 then ''
            else user_id
        end as user_id,
        case
            when dirt_kind = 'unknown_event_type'
                then
                    ['Experiment Viewed', 'debug_ping', 'pageview_v2', ''][
                        1 + dirt_no % 4
                    ]
            when dirt_kind = 'invalid_revenue' then 'Order Completed'
            else event_type
        end as event_type,
        case
            when dirt_kind = 'missing_timestamp' then null
            when dirt_kind = 'future_timestamp' and dirt_no % 50 = 0
                then timestamp '2999-01-01 00:00:00'
            when dirt_kind = 'future_timestamp'
                then received_at + to_hours(2 + (dirt_no % 9000)::int)
            when dirt_kind = 'before_start' and dirt_no % 2 = 0
                then timestamp '1970-01-01 00:00:00'
                    + to_seconds(dirt_no % 86400)
            when dirt_kind = 'before_start' then timestamp '2009-12-31 23:59:59'
            else occurred_at
        end as occurred_at,
        case
            when dirt_kind = 'late'
                then occurred_at + to_minutes(1440 + (dirt_no % 5760)::int)
            when dirt_kind = 'future_timestamp' and dirt_no % 50 = 0
                then timestamp '2999-01-01 00:00:00'
            else received_at
        end as received_at,
        page_url,
        page_category,
        product_id,
        product_category,
        case when dirt_kind = 'invalid_revenue' then 10.0 else price end as price,
        case when dirt_kind = 'invalid_revenue' then 1 else quantity end as quantity,
        case
            when dirt_kind = 'invalid_revenue' and dirt_no % 2 = 0
                then -1 - (dirt_no % 10000) / 100.0
            when dirt_kind = 'invalid_revenue' then 1e9
            else revenue
        end as revenue,
        currency,
        discount_code,
        search_query,
        campaign_id,
        utm_source,
        utm_medium,
        utm_campaign,
        device_type,
        user_agent,
        country,
        city,
        dirt_kind,
        is_bot_source
    from dirtied
),

-- Re-sent and duplicated rows get a second copy. One read of with_dirt (unnesting copy
-- numbers, not a union of three reads), so it streams instead of being materialized: at
-- 100M events that spilled 30 GB.
copied as (
    select
        *,
        unnest(
            case when dirt_kind in ('exact_duplicate', 'resent') then [0, 1] else [0] end
        ) as copy_no
    from with_dirt
),

extracted as (
    select
        * exclude (copy_no) replace (
            case
                when copy_no = 0 and dirt_kind in ('exact_duplicate', 'resent') then null
                else dirt_kind
            end as dirt_kind,
            case
                when copy_no = 1 and dirt_kind = 'resent'
                    then received_at + to_minutes(1 + (hash(event_id) % 4320)::int)
                else received_at
            end as received_at
        )
    from copied
)

-- The extract is taken at the window's end: rows not yet received are not in it.
select *
from extracted
where received_at is null or received_at <= ${window_start} + to_days(${days})
    or dirt_kind = 'future_timestamp'
