-- No person is in two segments (or a segment and a lifecycle stage) that exclude each
-- other: a recent buyer is never in a lapsed RFM class (those whose recency range lies
-- below microseg__recent_buyer_recency_score), nor lapsed or without a purchase in 60 or
-- 90 days; a customer is never a prospect; a newcomer has not lapsed. One row per person
-- and contradicting pair.
{%- set recent_days = var('microseg__recent_buyer_days') %}
{%- set lapsed_classes = [] %}
{%- for rfm in microseg.segment_catalogue('rfm') if rfm.r[1] < var('microseg__recent_buyer_recency_score') %}
    {%- do lapsed_classes.append(rfm.key) %}
{%- endfor %}
{%- set segment_pairs = [
    ('recent_buyers', 'lapsed_high_value'),
    ('recent_buyers', 'content_readers_no_purchase_90d'),
    ('customers', 'prospects'),
    ('customers', 'likely_first_buyers'),
    ('newcomers', 'lapsed_high_value'),
] %}
{%- for lapsed in lapsed_classes %}
    {%- do segment_pairs.append(('recent_buyers', lapsed)) %}
{%- endfor %}
{#- Stage pairs hold while the windows nest: a `new` person (first seen within
    lifecycle_new_days) who bought did so within the recent-buyer window; a `lapsed` one
    (unseen for more than lifecycle_lapsed_days) bought before it. -#}
{%- set stage_pairs = [] %}
{%- if var('microseg__lifecycle_lapsed_days') >= recent_days %}
    {%- do stage_pairs.append(('lapsed', 'recent_buyers')) %}
{%- endif %}
{%- if var('microseg__lifecycle_new_days') <= recent_days %}
    {%- for lapsed in lapsed_classes %}
        {%- do stage_pairs.append(('new', lapsed)) %}
    {%- endfor %}
{%- endif %}

with

memberships as (
    select * from {{ ref('fct_segment_memberships') }}
),

features as (
    select * from {{ ref('int_person_features') }}
),

segment_pairs as (
    {% for first, second in segment_pairs -%}
        select
            '{{ first }}' as first_segment_key,
            '{{ second }}' as second_segment_key
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

stage_pairs as (
    {% for stage, segment in stage_pairs -%}
        select
            '{{ stage }}' as lifecycle_stage,
            '{{ segment }}' as segment_key
        union all
    {% endfor -%}
    select
        cast(null as {{ dbt.type_string() }}) as lifecycle_stage,
        cast(null as {{ dbt.type_string() }}) as segment_key
    where false
),

segment_contradictions as (
    select
        first_memberships.person_key,
        segment_pairs.first_segment_key as first_kind,
        segment_pairs.second_segment_key as second_kind
    from segment_pairs
    inner join memberships as first_memberships
        on segment_pairs.first_segment_key = first_memberships.segment_key
    inner join memberships as second_memberships
        on
            segment_pairs.second_segment_key = second_memberships.segment_key
            and first_memberships.person_key = second_memberships.person_key
),

stage_contradictions as (
    select
        features.person_key,
        {{ dbt.concat(["'lifecycle_stage:'", 'stage_pairs.lifecycle_stage']) }} as first_kind,
        stage_pairs.segment_key as second_kind
    from stage_pairs
    inner join features
        on stage_pairs.lifecycle_stage = features.lifecycle_stage
    inner join memberships
        on
            stage_pairs.segment_key = memberships.segment_key
            and features.person_key = memberships.person_key
),

final as (
    select * from segment_contradictions
    union all
    select * from stage_contradictions
)

select * from final
