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
{%- set counted_events = microseg.person_day_event_types().keys() | reject('equalto', 'purchases') | list -%}
{#- Every clock and window end a computed snapshot compares events with. -#}
{%- set boundaries = [] -%}
{%- for snapshot in snapshots -%}
    {%- do boundaries.append(dbt.dateadd('day', clock_days[snapshot], as_of)) -%}
    {%- if snapshot != 'score' -%}
        {%- do boundaries.append(dbt.dateadd('day', clock_days[snapshot] + window_days, as_of)) -%}
    {%- endif -%}
{%- endfor %}

with

person_days as (
    select * from {{ ref('int_events_aggregated_to_person_days') }}
),

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

boundary_dates as (
    {% for boundary in boundaries -%}
        select cast({{ boundary }} as date) as activity_date
        {% if not loop.last %}union{% endif %}
    {% endfor %}
),

-- Whole days lie on one side of every clock, so the daily state serves them; the days a
-- clock or window end falls on are read event by event, each event a piece of its own.
pieces as (
    select
        person_days.person_key,
        person_days.activity_date,
        person_days.session_id,
        person_days.category,
        person_days.events,
        {% for column in counted_events + ['purchases', 'revenue'] -%}
            person_days.{{ column }},
        {% endfor -%}
        person_days.is_weekend,
        person_days.first_at,
        person_days.last_at
    from person_days
    where
        person_days.activity_date <= cast({{ as_of }} as date)
        and person_days.activity_date not in (select boundary_dates.activity_date from boundary_dates)

    union all

    select
        person_events.person_key,
        cast(person_events.occurred_at as date) as activity_date,
        person_events.session_id,
        person_events.category,
        1 as events,
        {% for column in counted_events + ['purchases'] -%}
            case
                when person_events.event_type in ({{ microseg.person_day_event_types(column) }}) then 1 else 0
            end as {{ column }},
        {% endfor -%}
        case when person_events.event_type = 'purchase' then coalesce(person_events.revenue, 0) else 0 end
            as revenue,
        {{ microseg.is_weekend('person_events.occurred_at') }} as is_weekend,
        person_events.occurred_at as first_at,
        person_events.occurred_at as last_at
    from person_events
    inner join boundary_dates
        on cast(person_events.occurred_at as date) = boundary_dates.activity_date
    where person_events.occurred_at <= {{ as_of }}
),

dated_pieces as (
    select
        clocks.snapshot,
        clocks.feature_clock,
        pieces.*,
        pieces.first_at > clocks.feature_clock as is_outcome,
        {{ dbt.datediff(dbt.cast('pieces.activity_date', dbt.type_timestamp()), 'clocks.feature_clock', 'day') }} as days_ago -- noqa: LT05
    from pieces
    cross join clocks
    where pieces.last_at <= {{ dbt.dateadd('day', window_days, 'clocks.feature_clock') }}
),

{#- Feature events: at or before the clock, and within 90 days for windowed columns. -#}
{%- set past = 'not is_outcome' -%}
{%- set recent = 'not is_outcome and days_ago < 90' %}

-- Distinct counts as two aggregations (one per session, day or category, then per
-- person): much faster than count(distinct).
recent_units as (
    {% for unit in ['session_id', 'days_ago', 'category'] -%}
        select
            snapshot,
            person_key,
            '{{ unit }}' as unit,
            min(days_ago) as days_ago
        from dated_pieces
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
        min(case when {{ past }} then first_at end) as first_event_at,
        max(case when {{ past }} then last_at end) as last_event_at,
        {{ dbt.datediff('max(case when ' ~ past ~ ' then last_at end)', 'feature_clock', 'day') }}
            as days_since_last_event,
        {{ dbt.datediff('min(case when ' ~ past ~ ' then first_at end)', 'feature_clock', 'day') }}
            as days_since_first_event,
        {% for days in [7, 30, 90] -%}
            {{ microseg.count_of('events', past ~ ' and days_ago < ' ~ days) }} as events_{{ days }}d,
        {% endfor -%}
        {% for name in counted_events -%}
            {{ microseg.count_of(name, recent) }} as {{ name }}_90d,
        {% endfor -%}
        {{ microseg.count_of('purchases', past) }} as purchases,
        {{ microseg.count_of('purchases', recent) }} as purchases_90d,
        coalesce(sum(case when {{ past }} and purchases > 0 then revenue end), 0) as revenue,
        coalesce(sum(case when {{ recent }} and purchases > 0 then revenue end), 0) as revenue_90d,
        min(case when {{ past }} and purchases > 0 then days_ago end) as days_since_last_purchase,
        {{ microseg.count_of('events', recent ~ ' and is_weekend') }}
        / {{ dbt.cast('nullif(' ~ microseg.count_of('events', recent) ~ ', 0)', 'double') }}
            as weekend_event_share_90d,
        case when snapshot != 'score' then {{ dbt.bool_or('is_outcome') }} end as is_active_in_window,
        case when snapshot != 'score' then {{ dbt.bool_or('is_outcome and purchases > 0') }} end
            as purchased_in_window
    from dated_pieces
    group by 1, 2, 3
    having {{ dbt.bool_or(past) }}
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
