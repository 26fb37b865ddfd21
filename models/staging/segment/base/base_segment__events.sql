{{ config(materialized='view', enabled=var('microseg__event_source') == 'segment') }}

{%- set properties = microseg.segment_event_properties() -%}
{%- set track_columns = microseg.columns_by_name(source('segment', 'tracks')) -%}
{%- set track_expressions = microseg.segment_call_expressions(source('segment', 'tracks'), {
    'event_type': 'coalesce(' ~ microseg.first_column(track_columns, ['event_text'], 'tracks.') ~ ', '
        ~ microseg.first_column(track_columns, ['event'], 'tracks.') ~ ')',
}, 'tracks.') -%}
{%- set page_columns = microseg.columns_by_name(source('segment', 'pages')) -%}
{%- set page_expressions = microseg.segment_call_expressions(source('segment', 'pages'), {
    'event_type': "'page'",
    'page_url': 'coalesce(' ~ microseg.first_column(page_columns, ['url']) ~ ', '
        ~ microseg.first_column(page_columns, ['context_page_url']) ~ ')',
    'page_category': microseg.first_column(page_columns, ['category']),
}) -%}
{%- set identify_expressions = microseg.segment_call_expressions(source('segment', 'identifies'), {
    'event_type': "'identify'",
}) -%}
{%- set track_id = 'cast(' ~ microseg.first_column(track_columns, ['id'], 'tracks.') ~ ' as '
    ~ dbt.type_string() ~ ')' -%}
{#- Track calls take their properties from the per-event tables. -#}
{%- for column in properties -%}
    {%- do track_expressions.update({column: 'event_properties.' ~ column}) -%}
{%- endfor %}

with

tracks as (
    select * from {{ source('segment', 'tracks') }}
),

pages as (
    select * from {{ source('segment', 'pages') }}
),

identifies as (
    select * from {{ source('segment', 'identifies') }}
),

event_properties as (
    {{ microseg.segment_event_properties_select() }}
),

track_calls as (
    select
        {{- microseg.tracker_contract_select(track_expressions) }}
    from tracks
    left join event_properties
        on {{ track_id }} = event_properties.message_id
),

page_calls as (
    select
        {{- microseg.tracker_contract_select(page_expressions) }}
    from pages
),

-- An identify call links the device to the user: an identity event (raw name `identify`).
identify_calls as (
    select
        {{- microseg.tracker_contract_select(identify_expressions) }}
    from identifies
),

final as (
    select * from track_calls
    union all
    select * from page_calls
    union all
    select * from identify_calls
)

select * from final
