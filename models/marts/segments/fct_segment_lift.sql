{%- set windows = var('microseg__lift_windows_days') -%}
{%- for days in windows if days is not number or days is boolean or days < 1 or days != days | int -%}
    {{ exceptions.raise_compiler_error(
        'microseg__lift_windows_days must list whole numbers of days of at least 1, not ' ~ days) }}
{%- endfor -%}
{%- set conversion_types = var('microseg__lift_conversion_event_types') -%}
{%- for event_type in conversion_types
    if event_type is not string or not modules.re.fullmatch('[a-z][a-z0-9_]*', event_type) -%}
    {{ exceptions.raise_compiler_error(
        'microseg__lift_conversion_event_types: ' ~ event_type ~ ' is not a lowercase event type') }}
{%- endfor -%}
{%- set min_effect = var('microseg__lift_min_effect') -%}
{%- if min_effect is not number or min_effect is boolean or not 0 < min_effect < 1 -%}
    {{ exceptions.raise_compiler_error(
        'microseg__lift_min_effect must be an absolute rate between 0 and 1, not ' ~ min_effect) }}
{%- endif -%}
{%- set min_persons = var('microseg__lift_min_group_persons') | int -%}
{%- set confidence = var('microseg__lift_confidence') -%}
{%- set purposes = var('microseg__channel_consent_purposes') -%}
{%- set rates = microseg.lift_statistics(
    'treated_persons', 'treated_converted', 'holdout_persons', 'holdout_converted',
    min_effect, confidence, var('microseg__lift_power')) -%}
{%- set revenue = microseg.mean_difference_interval(
    'treated_persons', 'treated_revenue', 'treated_revenue_squares',
    'holdout_persons', 'holdout_revenue', 'holdout_revenue_squares', confidence) -%}
with

changes as (
    select * from {{ ref('fct_segment_membership_changes') }}
),

segments as (
    select * from {{ ref('dim_segments') }}
),

persons as (
    select * from {{ ref('dim_persons') }}
),

customers as (
    select * from {{ ref('stg_crm__customers') }}
),

consents as (
    select * from {{ ref('stg_crm__consents') }}
),

events as (
    select * from {{ ref('int_events_attributed_to_persons') }}
),

contacts as (
    select * from {{ ref('int_person_contacts') }}
),

-- Intention to treat: each membership counts from its first entry, in the group it was
-- assigned then (held out or activated), whether or not a message reached the person.
entry_versions as (
    select
        membership_id,
        person_key,
        segment_key,
        changed_at as entered_at,
        is_holdout,
        row_number() over (partition by membership_id order by changed_at, change_id) as entry_rank
    from changes
    where change_type = 'entered'
),

entries as (
    select *
    from entry_versions
    where entry_rank = 1
),

windows as (
    {% for days in windows | unique | sort -%}
        select {{ days | int }} as window_days
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

-- Only windows that have ended by the clock: a window still open would count too little.
measured as (
    select
        entries.*,
        windows.window_days,
        {{ dbt.dateadd('day', 'windows.window_days', 'entries.entered_at') }} as window_end
    from entries
    cross join windows
    where {{ dbt.dateadd('day', 'windows.window_days', 'entries.entered_at') }}
        <= {{ microseg.as_of_timestamp() }}
),

conversions as (
    select
        person_key,
        occurred_at,
        cast(coalesce(revenue, 0) as double) as revenue
    from events
    where event_type in ('{{ conversion_types | join("', '") }}')
),

-- Only what happened after entry counts.
outcomes as (
    select
        measured.membership_id,
        measured.window_days,
        count(conversions.person_key) > 0 as is_converted,
        coalesce(sum(conversions.revenue), 0) as revenue
    from measured
    left join conversions
        on
            measured.person_key = conversions.person_key
            and measured.entered_at < conversions.occurred_at
            and measured.window_end >= conversions.occurred_at
    group by 1, 2
),

-- Whether anything reached the member in the window, per channel with a contact history
-- (the frequency-capped ones): how much of the activated group was actually contacted,
-- and whether the holdout was contacted anyway (by other campaigns).
contacted as (
    select
        measured.membership_id,
        measured.window_days,
        contacts.channel
    from measured
    inner join contacts
        on
            measured.person_key = contacts.person_key
            and measured.entered_at < contacts.contacted_at
            and measured.window_end >= contacts.contacted_at
    group by 1, 2, 3
),

contacted_anywhere as (
    select
        membership_id,
        window_days
    from contacted
    group by 1, 2
),

-- Reachable on a channel at entry: an e-mail address, and the latest clean consent record
-- for the channel's purpose recorded by then is a grant.
consents_before_entry as (
    select
        entries.membership_id,
        consents.purpose,
        consents.is_granted,
        row_number() over (
            partition by entries.membership_id, consents.purpose
            order by consents.recorded_at desc, case when consents.is_granted then 1 else 0 end
        ) as recency_rank
    from entries
    inner join persons
        on entries.person_key = persons.person_key
    inner join consents
        on
            persons.user_id = consents.user_id
            and entries.entered_at >= consents.recorded_at
),

granted_at_entry as (
    select
        membership_id,
        purpose
    from consents_before_entry
    where recency_rank = 1 and is_granted
),

reachable as (
    select
        {% for channel, purpose in purposes.items() -%}
            count(case when granted_at_entry.purpose = '{{ purpose }}' then 1 end) > 0
                as is_reachable_{{ channel }},
        {% endfor -%}
        entries.membership_id
    from entries
    inner join persons
        on entries.person_key = persons.person_key
    inner join customers
        on persons.user_id = customers.user_id
    inner join granted_at_entry
        on entries.membership_id = granted_at_entry.membership_id
    where customers.email is not null
    group by {{ purposes | length + 1 }}
),

-- Every member (channel `all`), and per channel the segment lists, those reachable there.
grouped as (
    select
        measured.segment_key,
        'all' as channel,
        measured.window_days,
        measured.entered_at,
        measured.is_holdout,
        outcomes.is_converted,
        outcomes.revenue,
        contacted_anywhere.membership_id is not null as is_contacted
    from measured
    inner join outcomes
        on
            measured.membership_id = outcomes.membership_id
            and measured.window_days = outcomes.window_days
    left join contacted_anywhere
        on
            measured.membership_id = contacted_anywhere.membership_id
            and measured.window_days = contacted_anywhere.window_days
    {% for channel in purposes %}
        union all

        select
            measured.segment_key,
            '{{ channel }}' as channel,
            measured.window_days,
            measured.entered_at,
            measured.is_holdout,
            outcomes.is_converted,
            outcomes.revenue,
            contacted.membership_id is not null as is_contacted
        from measured
        inner join outcomes
            on
                measured.membership_id = outcomes.membership_id
                and measured.window_days = outcomes.window_days
        inner join reachable
            on measured.membership_id = reachable.membership_id
        inner join segments
            on measured.segment_key = segments.segment_key
        left join contacted
            on
                measured.membership_id = contacted.membership_id
                and measured.window_days = contacted.window_days
                and contacted.channel = '{{ channel }}'
        where
            reachable.is_reachable_{{ channel }}
            and {{ microseg.lists_channel('segments.channels', channel) }}
    {% endfor %}
),

aggregated as (
    select
        segment_key,
        channel,
        window_days,
        min(entered_at) as first_entered_at,
        max(entered_at) as last_entered_at,
        count(case when not is_holdout then 1 end) as treated_persons,
        count(case when is_holdout then 1 end) as holdout_persons,
        count(case when not is_holdout and is_converted then 1 end) as treated_converted,
        count(case when is_holdout and is_converted then 1 end) as holdout_converted,
        count(case when not is_holdout and is_contacted then 1 end) as treated_contacted,
        count(case when is_holdout and is_contacted then 1 end) as holdout_contacted,
        sum(case when is_holdout then 0 else revenue end) as treated_revenue,
        sum(case when is_holdout then revenue else 0 end) as holdout_revenue,
        sum(case when is_holdout then 0 else revenue * revenue end) as treated_revenue_squares,
        sum(case when is_holdout then revenue * revenue else 0 end) as holdout_revenue_squares
    from grouped
    group by 1, 2, 3
),

tested as (
    select
        aggregated.*,
        {% for name in ['treated_rate', 'holdout_rate', 'absolute_lift', 'relative_lift',
            'z_statistic', 'difference_low', 'difference_high', 'persons_needed_per_group'] -%}
            {{ rates[name] }} as {{ name }},
        {% endfor -%}
        {{ revenue['difference'] }} as revenue_per_person_lift,
        {{ revenue['low'] }} as revenue_per_person_lift_low,
        {{ revenue['high'] }} as revenue_per_person_lift_high
    from aggregated
),

final as (
    select
        {{ dbt.concat([
            'tested.segment_key', "'|'", 'tested.channel', "'|'",
            'cast(tested.window_days as ' ~ dbt.type_string() ~ ')',
        ]) }} as lift_id,
        tested.segment_key,
        segments.segment_name,
        tested.channel,
        tested.window_days,
        tested.first_entered_at,
        tested.last_entered_at,
        tested.treated_persons,
        tested.holdout_persons,
        tested.treated_converted,
        tested.holdout_converted,
        tested.treated_contacted,
        tested.holdout_contacted,
        tested.treated_rate as treated_conversion_rate,
        tested.holdout_rate as holdout_conversion_rate,
        tested.treated_revenue,
        tested.holdout_revenue,
        1.0 * tested.treated_revenue / nullif(tested.treated_persons, 0) as treated_revenue_per_person,
        1.0 * tested.holdout_revenue / nullif(tested.holdout_persons, 0) as holdout_revenue_per_person,
        tested.revenue_per_person_lift,
        tested.revenue_per_person_lift_low,
        tested.revenue_per_person_lift_high,
        tested.absolute_lift,
        tested.relative_lift,
        tested.z_statistic,
        {{ microseg.two_sided_p_value('tested.z_statistic') }} as p_value,
        tested.difference_low as lift_low,
        tested.difference_high as lift_high,
        cast({{ confidence }} as double) as confidence_level,
        cast(tested.persons_needed_per_group as {{ dbt.type_int() }}) as persons_needed_per_group,
        least(tested.treated_persons, tested.holdout_persons) < {{ min_persons }}
        or tested.holdout_persons < coalesce(tested.persons_needed_per_group, 0)
            as is_holdout_too_small,
        {{ microseg.as_of_timestamp() }} as measured_at
    from tested
    inner join segments
        on tested.segment_key = segments.segment_key
    -- The fallback cohort is never activated: it has nothing to measure.
    where not segments.is_fallback
),

judged as (
    select
        *,
        case
            when least(treated_persons, holdout_persons) < {{ min_persons }}
                then 'too few persons to test'
            when p_value is null then 'no variance: every or no person converted'
            when p_value < {{ (1 - confidence) | round(6) }} and absolute_lift > 0 then 'lift'
            when p_value < {{ (1 - confidence) | round(6) }} then 'negative lift'
            when is_holdout_too_small then 'inconclusive: holdout too small'
            else 'no detectable lift'
        end as verdict
    from final
)

select * from judged
