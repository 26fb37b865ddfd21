{#- The machine-learning feature matrix, computed the same way at three clocks, one
    prediction window apart: `train` and `holdout` rows carry labels from the window after
    their clock, `score` rows (the as-of clock) are what the models score. Features only
    count events that happened at or before the row's clock. While no model is due for
    retraining (microseg__ml_retrain_after_days), the train and holdout rows the models were
    fitted on are kept from the previous build (erased persons purged by the post-hook) and
    only the score rows are computed. -#}
-- depends_on: {{ ref('stg_privacy__erasures') }}
{{ config(materialized='table', post_hook="{{ microseg.purge_erased() }}") }}
{%- set keep_training_rows = microseg.ml_training_rows_reusable() %}

{%- set as_of = microseg.as_of_timestamp() -%}
{%- set window_days = var('microseg__prediction_window_days') -%}
{%- set clock_days = {'train': -2 * window_days, 'holdout': -window_days, 'score': 0} -%}
{%- set snapshots = ['score'] if keep_training_rows else ['train', 'holdout', 'score'] -%}
{%- set counted_events = {
    'product_views': "'product_view'",
    'cart_adds': "'add_to_cart'",
    'searches': "'search'",
    'content_interactions': "'content_read', 'video_played'",
    'email_opens': "'email_opened'",
    'email_clicks': "'email_clicked'",
} -%}

with

person_events as (
    select * from {{ ref('int_events_attributed_to_persons') }}
),

clocks as (
    {% for snapshot in snapshots -%}
        select
            '{{ snapshot }}' as snapshot,
            {{ dbt.dateadd('day', clock_days[snapshot], as_of) }} as feature_clock
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

dated_events as (
    select
        clocks.snapshot,
        clocks.feature_clock,
        person_events.person_key,
        person_events.session_id,
        person_events.event_type,
        person_events.occurred_at,
        person_events.category,
        coalesce(person_events.revenue, 0) as revenue,
        person_events.occurred_at > clocks.feature_clock as is_outcome,
        {{ dbt.datediff('person_events.occurred_at', 'clocks.feature_clock', 'day') }} as days_ago, -- noqa: LT05
        {{ microseg.is_weekend('person_events.occurred_at') }} as is_weekend
    from person_events
    cross join clocks
    where
        person_events.occurred_at <= {{ dbt.dateadd('day', window_days, 'clocks.feature_clock') }}
        and person_events.occurred_at <= {{ as_of }}
),

{#- Feature events: at or before the clock, and within 90 days for windowed columns. -#}
{%- set past = 'not is_outcome' -%}
{%- set recent = 'not is_outcome and days_ago < 90' %}

-- Distinct counts as two aggregations (one per session, day or category, then per
-- person): much faster than count(distinct) over every event.
recent_units as (
    {% for unit in ['session_id', 'days_ago', 'category'] -%}
        select
            snapshot,
            person_key,
            '{{ unit }}' as unit,
            min(days_ago) as days_ago
        from dated_events
        where {{ recent }} and {{ unit }} is not null
        group by snapshot, person_key, {{ unit }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

distinct_counts as (
    select
        snapshot,
        person_key,
        count(case when unit = 'session_id' and days_ago < 30 then 1 end) as sessions_30d,
        count(case when unit = 'session_id' then 1 end) as sessions_90d,
        count(case when unit = 'days_ago' and days_ago < 30 then 1 end) as active_days_30d,
        count(case when unit = 'days_ago' then 1 end) as active_days_90d,
        count(case when unit = 'category' then 1 end) as categories_90d
    from recent_units
    group by 1, 2
),

features as (
    select
        snapshot,
        feature_clock,
        person_key,
        min(case when {{ past }} then occurred_at end) as first_event_at,
        max(case when {{ past }} then occurred_at end) as last_event_at,
        {{ dbt.datediff('max(case when ' ~ past ~ ' then occurred_at end)', 'feature_clock', 'day') }}
            as days_since_last_event,
        {{ dbt.datediff('min(case when ' ~ past ~ ' then occurred_at end)', 'feature_clock', 'day') }}
            as days_since_first_event,
        {% for days in [7, 30, 90] -%}
            count(case when {{ past }} and days_ago < {{ days }} then 1 end) as events_{{ days }}d,
        {% endfor -%}
        {% for name, types in counted_events.items() -%}
            count(case when {{ recent }} and event_type in ({{ types }}) then 1 end) as {{ name }}_90d,
        {% endfor -%}
        count(case when {{ past }} and event_type = 'purchase' then 1 end) as purchases,
        count(case when {{ recent }} and event_type = 'purchase' then 1 end) as purchases_90d,
        coalesce(sum(case when {{ past }} and event_type = 'purchase' then revenue end), 0) as revenue,
        coalesce(sum(case when {{ recent }} and event_type = 'purchase' then revenue end), 0)
            as revenue_90d,
        min(case when {{ past }} and event_type = 'purchase' then days_ago end) as days_since_last_purchase,
        avg(case when {{ recent }} then case when is_weekend then 1.0 else 0.0 end end)
            as weekend_event_share_90d,
        case when snapshot != 'score' then count(case when is_outcome then 1 end) > 0 end
            as is_active_in_window,
        case
            when snapshot != 'score'
                then count(case when is_outcome and event_type = 'purchase' then 1 end) > 0
        end as purchased_in_window
    from dated_events
    group by 1, 2, 3
    having count(case when {{ past }} then 1 end) > 0
),

final as (
    select
        {{ dbt.concat(['features.snapshot', "'|'", 'features.person_key']) }} as feature_row_id,
        features.*,
        {% for column in ['sessions_30d', 'sessions_90d', 'active_days_30d', 'active_days_90d'] -%}
            coalesce(distinct_counts.{{ column }}, 0) as {{ column }},
        {% endfor -%}
        coalesce(distinct_counts.categories_90d, 0) as categories_90d
    from features
    left join distinct_counts
        on
            features.snapshot = distinct_counts.snapshot
            and features.person_key = distinct_counts.person_key
)

select * from final
{%- if keep_training_rows %}
union all
select * from {{ this }}
where snapshot != 'score'
{%- endif %}
