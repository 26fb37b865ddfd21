{{ config(materialized='view', enabled=var('microseg__event_source') == 'ga4') }}

{%- set columns = microseg.columns_by_name(source('ga4', 'ga4_events')) -%}
{%- set text = dbt.type_string() -%}
{%- set float = microseg.tracker_number_type() -%}
{%- set occurred_at = microseg.parse_timestamp(adapter.quote(columns['event_timestamp'].name),
    columns['event_timestamp'].data_type) if 'event_timestamp' in columns else 'null' -%}
{%- set item = {} -%}
{%- for field, data_type in [('item_id', text), ('item_category', text), ('price', float),
    ('quantity', dbt.type_int()), ('coupon', text)] -%}
    {%- do item.update({field: microseg.ga4_field(columns, 'items', field, data_type, first=true)}) -%}
{%- endfor -%}
{#- Event-scoped traffic first (the page's UTM parameters, collected_traffic_source),
    then the user's first acquisition (traffic_source, user-scoped in GA4). -#}
{%- set traffic = {} -%}
{%- for column, param_key, manual, first_touch in [
    ('utm_source', 'source', 'manual_source', 'source'),
    ('utm_medium', 'medium', 'manual_medium', 'medium'),
    ('utm_campaign', 'campaign', 'manual_campaign_name', 'name'),
] -%}
    {%- do traffic.update({column: 'coalesce(' ~ [
        microseg.ga4_param(columns, param_key),
        microseg.ga4_field(columns, 'collected_traffic_source', manual, text),
        microseg.ga4_field(columns, 'traffic_source', first_touch, text),
    ] | join(', ') ~ ')'}) -%}
{%- endfor %}

with

events as (
    select * from {{ source('ga4', 'ga4_events') }}
),

final as (
    select
        {{- microseg.tracker_contract_select({
            'event_id': microseg.ga4_event_id(columns),
            'anonymous_id': microseg.first_column(columns, ['user_pseudo_id']),
            'user_id': microseg.first_column(columns, ['user_id']),
            'event_type': microseg.first_column(columns, ['event_name']),
            'occurred_at': occurred_at,
            'received_at': occurred_at,
            'page_url': microseg.ga4_param(columns, 'page_location'),
            'page_category': microseg.ga4_param(columns, 'content_group'),
            'product_id': item.item_id,
            'product_category': item.item_category,
            'price': item.price,
            'quantity': item.quantity,
            'revenue': 'coalesce(' ~ microseg.ga4_field(columns, 'ecommerce', 'purchase_revenue', float)
                ~ ', case when ' ~ microseg.first_column(columns, ['event_name']) ~ " = 'purchase' then "
                ~ microseg.ga4_param(columns, 'value', 'number') ~ ' end)',
            'currency': microseg.ga4_param(columns, 'currency'),
            'discount_code': 'coalesce(' ~ microseg.ga4_param(columns, 'coupon') ~ ', ' ~ item.coupon ~ ')',
            'search_query': microseg.ga4_param(columns, 'search_term'),
            'campaign_id': 'coalesce(' ~ microseg.ga4_param(columns, 'campaign_id', 'any') ~ ', '
                ~ microseg.ga4_field(columns, 'collected_traffic_source', 'manual_campaign_id', text) ~ ')',
            'utm_source': traffic.utm_source,
            'utm_medium': traffic.utm_medium,
            'utm_campaign': traffic.utm_campaign,
            'device_type': microseg.ga4_field(columns, 'device', 'category', text),
            'country': microseg.ga4_field(columns, 'geo', 'country', text),
            'city': microseg.ga4_field(columns, 'geo', 'city', text),
        }) }}
    from events
)

select * from final
