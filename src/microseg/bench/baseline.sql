-- The benchmark's baseline: what microseg computes, written the most direct way in plain
-- DuckDB SQL on the same raw Parquet, with no dbt, no quarantine, no incremental logic,
-- no tests and no activation. `microseg bench` runs it stage by stage and times each stage.
--
-- Inputs are DuckDB variables set before the first stage (microseg.bench sets them from
-- dbt_project.yml): as_of, events_path, customers_path, seeds_dir and the thresholds read
-- below with getvariable(). Two relations come from dbt_project.yml as well:
-- bl_rfm_classes (key, r_min, r_max, fm_min, fm_max), created in the setup stage, and
-- the view bl_segment_matches (person_key, segment_key, priority), the segment rules
-- rendered from the segment catalogue and created at the start of the segments stage.
--
-- Sections start with a line `-- stage: <name>`; each is run and timed as one unit.

-- stage: staging

create or replace table bl_event_types as
select
    raw_event_name,
    event_type
from read_csv(getvariable('seeds_dir') || '/event_type_mapping.csv', header = true);

create or replace table bl_bot_patterns as
select pattern
from read_csv(getvariable('seeds_dir') || '/bot_user_agents.csv', header = true);

create or replace table bl_taxonomy as
select
    category,
    page_type
from read_csv(getvariable('seeds_dir') || '/interest_taxonomy.csv', header = true);

-- Clean events: the earliest receipt of each event id, if that copy is valid; bots flagged.
create or replace table bl_events as
with raw_events as (
    select
        nullif(trim(event_id), '') as event_id,
        nullif(trim(anonymous_id), '') as anonymous_id,
        nullif(trim(user_id), '') as user_id,
        lower(nullif(trim(event_type), '')) as event_name,
        occurred_at,
        received_at,
        lower(nullif(trim(page_category), '')) as page_category,
        lower(nullif(trim(product_category), '')) as product_category,
        nullif(trim(page_url), '') as page_url,
        price,
        quantity,
        revenue,
        upper(nullif(trim(discount_code), '')) as discount_code,
        nullif(trim(campaign_id), '') as campaign_id,
        nullif(trim(user_agent), '') as user_agent
    from read_parquet(getvariable('events_path'))
),

first_receipts as (
    select *
    from raw_events
    where event_id is not null
    qualify row_number() over (
            partition by event_id
            order by received_at, occurred_at, event_name, anonymous_id, user_id, revenue, page_url
        ) = 1
),

-- Typed Parquet cannot hold unparseable numbers or timestamps, so no such check here.
valid as (
    select
        first_receipts.*,
        bl_event_types.event_type
    from first_receipts
    inner join bl_event_types on first_receipts.event_name = bl_event_types.raw_event_name
    where
        (first_receipts.anonymous_id is not null or first_receipts.user_id is not null)
        and first_receipts.occurred_at is not null
        and first_receipts.received_at is not null
        and first_receipts.occurred_at
        <= first_receipts.received_at + to_minutes(getvariable('max_clock_skew_minutes'))
        and first_receipts.received_at
        <= getvariable('as_of') + to_minutes(getvariable('max_clock_skew_minutes'))
        and first_receipts.occurred_at >= getvariable('data_start_date')
        and coalesce(first_receipts.revenue between 0 and getvariable('max_event_revenue'), true)
        and coalesce(first_receipts.price >= 0, true)
        and coalesce(
            first_receipts.quantity > 0
            and first_receipts.quantity <= getvariable('max_event_quantity'),
            true
        )
),

bot_agents as (
    select distinct agents.user_agent
    from (
        select distinct user_agent from raw_events
        where user_agent is not null
    ) as agents
    inner join bl_bot_patterns on contains(lower(agents.user_agent), bl_bot_patterns.pattern)
),

-- A device with too many distinct events in one minute, valid or not.
rapid_fire_devices as (
    select distinct anonymous_id
    from (
        select
            anonymous_id,
            date_trunc('minute', occurred_at) as event_minute
        from raw_events
        where anonymous_id is not null and event_id is not null and occurred_at is not null
        group by 1, 2
        having count(distinct event_id) > getvariable('bot_max_events_per_minute')
    ) as busy_minutes
)

select
    valid.event_id,
    valid.anonymous_id,
    valid.user_id,
    valid.event_type,
    valid.occurred_at,
    coalesce(valid.product_category, valid.page_category) as category,
    valid.revenue,
    valid.discount_code,
    valid.campaign_id,
    bot_agents.user_agent is not null or rapid_fire_devices.anonymous_id is not null as is_bot
from valid
left join bot_agents on valid.user_agent = bot_agents.user_agent
left join rapid_fire_devices on valid.anonymous_id = rapid_fire_devices.anonymous_id;

-- One CRM row per user: a valid e-mail first, then the latest sign-up; invalid e-mails out.
create or replace table bl_customers as
with customers as (
    select
        nullif(trim(user_id), '') as user_id,
        lower(nullif(trim(email), '')) as email,
        signed_up_at,
        lower(nullif(trim(subscription_status), '')) as subscription_status
    from read_parquet(getvariable('customers_path'))
),

checked as (
    select
        *,
        coalesce(regexp_full_match(email, getvariable('email_pattern')), true) as is_email_valid
    from customers
    where user_id is not null
)

select
    user_id,
    signed_up_at,
    case
        when subscription_status in ('active', 'subscribed') then 'active'
        when subscription_status = 'paused' then 'paused'
        when subscription_status in ('cancelled', 'canceled', 'churned') then 'cancelled'
        else 'none'
    end as subscription_status
from checked
qualify
    row_number() over (
        partition by user_id
        order by is_email_valid desc, signed_up_at desc nulls last, email asc
    ) = 1
    and is_email_valid;

-- stage: sessions

-- Per device in (occurred_at, event_id) order: a visit starts after more than the timeout;
-- inside a visit a different user logging in starts a run; runs are cut every max hours.
create or replace table bl_session_events as
with human as (
    select
        event_id,
        anonymous_id,
        user_id,
        event_type,
        occurred_at,
        category,
        revenue,
        discount_code,
        campaign_id
    from bl_events
    where anonymous_id is not null and not is_bot
),

gaps as (
    select
        *,
        coalesce(
            occurred_at > lag(occurred_at) over device_order
            + to_minutes(getvariable('session_timeout_minutes')),
            true
        ) as is_visit_start
    from human
    window device_order as (partition by anonymous_id order by occurred_at, event_id)
),

visits as (
    select
        *,
        sum(case when is_visit_start then 1 else 0 end) over (
            partition by anonymous_id order by occurred_at, event_id
            rows between unbounded preceding and current row
        ) as visit_no
    from gaps
),

users as (
    select
        *,
        last_value(user_id ignore nulls) over (
            partition by anonymous_id, visit_no order by occurred_at, event_id
            rows between unbounded preceding and 1 preceding
        ) as previous_user_id
    from visits
),

runs as (
    select
        *,
        sum(case when is_visit_start or user_id != previous_user_id then 1 else 0 end) over (
            partition by anonymous_id order by occurred_at, event_id
            rows between unbounded preceding and current row
        ) as run_no
    from users
)

select
    event_id,
    anonymous_id,
    user_id,
    event_type,
    occurred_at,
    category,
    revenue,
    discount_code,
    campaign_id,
    run_no,
    floor(
        date_diff(
            'millisecond', min(occurred_at) over (partition by anonymous_id, run_no), occurred_at
        )
        / (getvariable('max_session_hours') * 3600000)
    ) as chunk_no
from runs;

-- One row per session; a session belongs to its own user, else the device's next user,
-- else its previous one, else the device.
create or replace table bl_sessions as
with sessions as (
    select
        anonymous_id,
        run_no,
        chunk_no,
        min(occurred_at) as started_at,
        arg_min(event_id, (occurred_at, event_id)) as first_event_id,
        max(user_id) as session_user_id
    from bl_session_events
    group by all
)

select
    *,
    coalesce(
        'user:' || coalesce(
            session_user_id,
            first_value(session_user_id ignore nulls) over (
                partition by anonymous_id order by started_at, first_event_id
                rows between 1 following and unbounded following
            ),
            last_value(session_user_id ignore nulls) over (
                partition by anonymous_id order by started_at, first_event_id
                rows between unbounded preceding and 1 preceding
            )
        ),
        'anon:' || anonymous_id
    ) as person_key
from sessions;

-- stage: features

-- Every interaction of a person: web events through their session, server-side events
-- (no device) through their user. Heartbeats (page_ping) and tracker events without a
-- meaning here (other) only lengthen sessions (macro non_interaction_event_types).
create or replace table bl_person_events as
select
    bl_sessions.person_key,
    bl_session_events.anonymous_id,
    bl_session_events.run_no,
    bl_session_events.chunk_no,
    bl_session_events.event_id,
    bl_session_events.event_type,
    bl_session_events.occurred_at,
    bl_session_events.category,
    bl_session_events.revenue,
    bl_session_events.discount_code,
    bl_session_events.campaign_id
from bl_session_events
inner join bl_sessions
    on
        bl_session_events.anonymous_id = bl_sessions.anonymous_id
        and bl_session_events.run_no = bl_sessions.run_no
        and bl_session_events.chunk_no = bl_sessions.chunk_no
where bl_session_events.event_type not in ('page_ping', 'other')
union all
select
    'user:' || user_id as person_key,
    null as anonymous_id,
    null as run_no,
    null as chunk_no,
    event_id,
    event_type,
    occurred_at,
    category,
    revenue,
    discount_code,
    campaign_id
from bl_events
where
    anonymous_id is null and user_id is not null and not is_bot
    and event_type not in ('page_ping', 'other');

-- The features the segment rules read, per person.
create or replace table bl_person_features as
with activity as (
    select
        person_key,
        count(*) filter (where event_type != 'email_sent') as interactions,
        min(occurred_at) filter (where event_type != 'email_sent') as first_interaction_at,
        count(*) filter (
            where event_type in ('content_read', 'video_played')
            and date_diff('day', occurred_at, getvariable('as_of')) <= 90
        ) as content_interactions_90d,
        count(distinct campaign_id) filter (
            where event_type in ('email_opened', 'email_clicked')
        ) as campaigns_opened,
        count(*) filter (where event_type = 'purchase') as purchases,
        min(date_diff('day', occurred_at, getvariable('as_of'))) filter (
            where event_type = 'purchase'
        ) as days_since_last_purchase,
        cast(
            sum(coalesce(revenue, 0)) filter (where event_type = 'purchase') as decimal(18, 2)
        ) as monetary_value,
        avg(case when discount_code is not null then 1.0 else 0.0 end) filter (
            where event_type = 'purchase'
        ) as discount_purchase_share
    from bl_person_events
    group by 1
),

-- Quintiles of the mid-rank percentile: a tied block scores as its middle position.
rfm_ranks as (
    select
        person_key,
        days_since_last_purchase <= getvariable('recent_buyer_days') as is_recent_buyer,
        1 + floor(
            5 * (
                2 * rank() over (order by days_since_last_purchase desc)
                + count(*) over (partition by days_since_last_purchase)
                - 2
            ) / (2 * count(*) over ())
        ) as relative_recency_score,
        1 + floor(
            5 * (
                2 * rank() over (order by purchases)
                + count(*) over (partition by purchases)
                - 2
            ) / (2 * count(*) over ())
        ) as frequency_score,
        1 + floor(
            5 * (
                2 * rank() over (order by monetary_value)
                + count(*) over (partition by monetary_value)
                - 2
            ) / (2 * count(*) over ())
        ) as monetary_score
    from activity
    where purchases > 0
),

-- A recent buyer scores at least the recent score on recency.
rfm_scores as (
    select
        *,
        case
            when is_recent_buyer
                then greatest(relative_recency_score, getvariable('recent_buyer_recency_score'))
            else relative_recency_score
        end as recency_score
    from rfm_ranks
),

rfm as (
    select
        rfm_scores.person_key,
        rfm_scores.is_recent_buyer,
        rfm_scores.monetary_score,
        bl_rfm_classes.key as rfm_class
    from rfm_scores
    left join bl_rfm_classes
        on
            rfm_scores.recency_score between bl_rfm_classes.r_min and bl_rfm_classes.r_max
            and floor((rfm_scores.frequency_score + rfm_scores.monetary_score + 1) / 2.0)
            between bl_rfm_classes.fm_min and bl_rfm_classes.fm_max
),

carts as (
    select
        person_key,
        anonymous_id,
        run_no,
        chunk_no,
        max(occurred_at) as last_added_at
    from bl_person_events
    where event_type = 'add_to_cart'
    group by 1, 2, 3, 4
),

purchases as (
    select
        person_key,
        occurred_at
    from bl_person_events
    where event_type = 'purchase'
),

-- A cart is abandoned unless the person's next purchase comes within the window.
abandoned_carts as (
    select
        carts.person_key,
        max(carts.last_added_at) as last_abandoned_cart_at
    from carts
    asof left join purchases
        on
            carts.person_key = purchases.person_key
            and carts.last_added_at <= purchases.occurred_at
    where
        purchases.occurred_at is null
        or date_diff('second', carts.last_added_at, purchases.occurred_at)
        > getvariable('cart_abandon_hours') * 3600
    group by 1
),

product_bursts as (
    select
        person_key,
        max(occurred_at) as last_product_burst_at
    from (
        select
            person_key,
            occurred_at,
            lag(occurred_at, getvariable('burst_product_views') - 1) over (
                partition by person_key order by occurred_at, event_id
            ) as window_opened_at
        from bl_person_events
        where event_type = 'product_view'
    ) as views
    where date_diff('second', window_opened_at, occurred_at) <= getvariable('burst_minutes') * 60
    group by 1
),

category_binges as (
    select
        person_key,
        max(occurred_at) as last_category_binge_at
    from (
        select
            bl_person_events.person_key,
            bl_person_events.occurred_at,
            lag(bl_person_events.occurred_at, getvariable('category_binge_views') - 1) over (
                partition by bl_person_events.person_key, bl_person_events.category
                order by bl_person_events.occurred_at, bl_person_events.event_id
            ) as window_opened_at
        from bl_person_events
        inner join bl_taxonomy on bl_person_events.category = bl_taxonomy.category
        where
            bl_person_events.event_type in ('page_view', 'product_view')
            and bl_taxonomy.page_type = 'product'
    ) as views
    where
        date_diff('second', window_opened_at, occurred_at)
        <= getvariable('category_binge_minutes') * 60
    group by 1
),

session_stats as (
    select
        person_key,
        count(*) as sessions,
        avg(case when isodow(started_at) >= 6 then 1.0 else 0.0 end) as weekend_session_share
    from bl_sessions
    group by 1
),

crm as (
    select
        'user:' || user_id as person_key,
        signed_up_at,
        subscription_status
    from bl_customers
),

persons as (
    select person_key from crm
    union
    select person_key from activity
    union
    select person_key from session_stats
)

select
    persons.person_key,
    coalesce(activity.interactions, 0) as interactions,
    coalesce(activity.purchases, 0) as purchases,
    activity.days_since_last_purchase,
    coalesce(rfm.is_recent_buyer, false) as is_recent_buyer,
    activity.monetary_value,
    activity.discount_purchase_share,
    coalesce(activity.campaigns_opened, 0) as campaigns_opened,
    coalesce(activity.content_interactions_90d, 0) as content_interactions_90d,
    rfm.monetary_score,
    coalesce(rfm.rfm_class, 'non_customer') as rfm_class,
    coalesce(crm.subscription_status, 'none') as subscription_status,
    coalesce(session_stats.sessions, 0) as sessions,
    session_stats.weekend_session_share,
    date_diff('hour', abandoned_carts.last_abandoned_cart_at, getvariable('as_of'))
        as hours_since_last_abandoned_cart,
    date_diff('day', product_bursts.last_product_burst_at, getvariable('as_of'))
        as days_since_last_product_burst,
    date_diff('day', category_binges.last_category_binge_at, getvariable('as_of'))
        as days_since_last_category_binge,
    date_diff(
        'day',
        least(activity.first_interaction_at, crm.signed_up_at),
        getvariable('as_of')
    ) as days_since_first_seen
from persons
left join activity on persons.person_key = activity.person_key
left join rfm on persons.person_key = rfm.person_key
left join crm on persons.person_key = crm.person_key
left join session_stats on persons.person_key = session_stats.person_key
left join abandoned_carts on persons.person_key = abandoned_carts.person_key
left join product_bursts on persons.person_key = product_bursts.person_key
left join category_binges on persons.person_key = category_binges.person_key;

-- stage: segments

-- Every rule match (bl_segment_matches), the fallback cohort for everyone else, and the
-- primary segment: the lowest priority number.
create or replace table bl_segment_memberships as
with matches as (
    select
        person_key,
        segment_key,
        priority
    from bl_segment_matches
    union all
    select
        bl_person_features.person_key,
        'fallback' as segment_key,
        9999 as priority
    from bl_person_features
    anti join bl_segment_matches on bl_person_features.person_key = bl_segment_matches.person_key
)

select
    person_key,
    segment_key,
    row_number() over (partition by person_key order by priority) = 1 as is_primary
from matches;
