{#- status_reason texts: shares as percentages with one decimal, the same on every warehouse. -#}
{%- set share_percent = "cast(cast(round(share_of_persons * 100, 1) as decimal(5, 1)) as "
    ~ dbt.type_string() ~ ")" %}
{%- set max_share_percent = "cast(cast(round(max_share * 100, 1) as decimal(5, 1)) as "
    ~ dbt.type_string() ~ ")" %}
{%- set below_min_size = dbt.concat([
    "cast(member_count as " ~ dbt.type_string() ~ ")",
    "case when member_count = 1 then ' member' else ' members' end",
    "', below min_size '",
    "cast(min_size as " ~ dbt.type_string() ~ ")",
]) %}
{%- set above_max_share = dbt.concat([
    share_percent, "'% of persons, above max_share '", max_share_percent, "'%'",
]) %}

with

catalogue as (
    select * from {{ ref('int_segment_catalogue_rendered') }}
),

memberships as (
    select * from {{ ref('fct_segment_memberships') }}
),

features as (
    select * from {{ ref('int_person_features') }}
),

changes as (
    select * from {{ ref('fct_segment_membership_changes') }}
),

person_total as (
    select count(*) as persons from features
),

member_stats as (
    select
        memberships.segment_key,
        count(*) as member_count,
        count(case when memberships.is_primary then 1 end) as primary_member_count,
        count(case when memberships.is_holdout then 1 end) as holdout_count,
        avg(features.monetary_value) as avg_monetary_value,
        avg(features.sessions_90d) as avg_sessions_90d,
        avg(features.days_since_last_seen) as avg_days_since_last_seen,
        avg(case when features.purchases_30d > 0 then 1.0 else 0.0 end) as conversion_rate_30d,
        avg(features.revenue_90d) as revenue_per_person_90d
    from memberships
    inner join features
        on memberships.person_key = features.person_key
    group by 1
),

last_changes as (
    select
        segment_key,
        max(changed_at) as last_changed_at
    from changes
    group by 1
),

sized as (
    select
        catalogue.segment_key,
        catalogue.segment_name,
        catalogue.description,
        catalogue.rule_sql,
        catalogue.parent_segment_key,
        catalogue.priority,
        catalogue.owner,
        catalogue.channels,
        catalogue.is_fallback,
        catalogue.origin,
        catalogue.min_size,
        catalogue.max_share,
        catalogue.holdout_percent,
        coalesce(member_stats.member_count, 0) as member_count,
        coalesce(member_stats.member_count, 0) * 1.0 / nullif(person_total.persons, 0)
            as share_of_persons,
        person_total.persons as person_count,
        coalesce(member_stats.primary_member_count, 0) as primary_member_count,
        coalesce(member_stats.holdout_count, 0) as holdout_count,
        member_stats.avg_monetary_value,
        member_stats.avg_sessions_90d,
        member_stats.avg_days_since_last_seen,
        member_stats.conversion_rate_30d,
        member_stats.revenue_per_person_90d,
        last_changes.last_changed_at
    from catalogue
    cross join person_total
    left join member_stats
        on catalogue.segment_key = member_stats.segment_key
    left join last_changes
        on catalogue.segment_key = last_changes.segment_key
),

checked as (
    select
        *,
        member_count >= min_size as meets_min_size,
        share_of_persons <= max_share as within_max_share,
        coalesce(
            not is_fallback
            and channels != ''
            and member_count >= min_size
            and share_of_persons <= max_share,
            false
        ) as is_activatable
    from sized
),

final as (
    select
        *,
        case
            when is_fallback then 'fallback'
            when member_count = 0 then 'empty'
            when not meets_min_size or not within_max_share then 'withheld'
            when coalesce(channels, '') = '' then 'not_activated'
            else 'active'
        end as status,
        case
            when is_fallback then 'fallback cohort, never activated'
            when member_count = 0 then 'no members'
            when not meets_min_size and not within_max_share
                then {{ dbt.concat([below_min_size, "'; '", above_max_share]) }}
            when not meets_min_size then {{ below_min_size }}
            when not within_max_share then {{ above_max_share }}
            when coalesce(channels, '') = '' then 'no channels'
            else {{ dbt.concat(["'activated on '", 'channels']) }}
        end as status_reason
    from checked
)

select * from final
