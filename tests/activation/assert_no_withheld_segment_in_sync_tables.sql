-- No sync table names a segment that dim_segments does not activate (withheld, empty,
-- fallback or without channels): every segment key a sync row carries, including the
-- semicolon-separated lists and the primary segment of sync_crm_traits, is activatable.
{%- set padded_key = dbt.concat(["';'", 'segments.segment_key', "';'"]) %}

with

segments as (
    select * from {{ ref('dim_segments') }}
),

audiences as (
    {% for table in ['sync_email_audiences', 'sync_ad_audiences', 'sync_google_customer_match',
        'sync_meta_custom_audiences'] -%}
        select
            '{{ table }}' as sync_table,
            segment_key
        from {{ ref(table) }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

crm_traits as (
    select * from {{ ref('sync_crm_traits') }}
),

audience_leaks as (
    select
        audiences.sync_table,
        audiences.segment_key,
        coalesce(segments.status, 'unknown') as status
    from audiences
    left join segments
        on audiences.segment_key = segments.segment_key
    where not coalesce(segments.is_activatable, false)
),

crm_leaks as (
    select
        'sync_crm_traits' as sync_table,
        segments.segment_key,
        segments.status
    from crm_traits
    inner join segments
        on
            {{ dbt.position(padded_key, dbt.concat(["';'", 'crm_traits.segment_keys', "';'"])) }} > 0
            or {{ dbt.position(
                padded_key, dbt.concat(["';'", "coalesce(crm_traits.holdout_segment_keys, '')", "';'"])
            ) }} > 0
            or crm_traits.primary_segment_key = segments.segment_key
    where not segments.is_activatable
),

leaks as (
    select * from audience_leaks
    union all
    select * from crm_leaks
)

select
    sync_table,
    segment_key,
    status,
    count(*) as rows_found
from leaks
group by 1, 2, 3
