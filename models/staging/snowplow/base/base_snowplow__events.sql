{{ config(materialized='view', enabled=var('microseg__event_source') == 'snowplow') }}

{%- set columns = microseg.columns_by_name(source('snowplow', 'snowplow_events')) -%}
{%- set schemas = microseg.snowplow_schemas() -%}
{#- Every atomic column read, or null when the loader did not write it. -#}
{%- set atomic = {} -%}
{%- for name in [
    'event', 'event_id', 'event_name', 'domain_userid', 'user_id', 'page_url', 'se_action',
    'se_label', 'tr_total', 'tr_currency', 'ti_sku', 'ti_category', 'ti_price', 'ti_quantity',
    'ti_currency', 'mkt_source', 'mkt_medium', 'mkt_campaign', 'dvce_type', 'dvce_ismobile',
    'useragent', 'geo_country', 'geo_city',
] -%}
    {%- do atomic.update({name: microseg.first_column(columns, [name])}) -%}
{%- endfor -%}
{%- set timestamps = {} -%}
{%- for name in ['derived_tstamp', 'collector_tstamp'] -%}
    {%- do timestamps.update({name: microseg.parse_timestamp(adapter.quote(columns[name].name),
        columns[name].data_type) if name in columns else 'null'}) -%}
{%- endfor -%}
{%- set entity = {} -%}
{%- for key, schema, field in [
    ('product_id', 'product', 'id'), ('product_category', 'product', 'category'),
    ('product_price', 'product', 'price'), ('product_quantity', 'product', 'quantity'),
    ('product_currency', 'product', 'currency'), ('transaction_revenue', 'transaction', 'revenue'),
    ('transaction_currency', 'transaction', 'currency'),
] -%}
    {%- do entity.update({key: microseg.snowplow_json_field(columns, schemas[schema], field)}) -%}
{%- endfor -%}
{%- set ecommerce_action = microseg.snowplow_json_field(columns, schemas.ecommerce_action, 'type') -%}
{%- set float = microseg.tracker_number_type() -%}
{%- set integer = dbt.type_int() %}

with

events as (
    select * from {{ source('snowplow', 'snowplow_events') }}
),

-- The atomic event kind and, for the e-commerce plugin's one event, its action.
named as (
    select
        events.*,
        lower({{ atomic.event }}) as atomic_event,
        lower({{ ecommerce_action }}) as ecommerce_action
    from events
),

final as (
    select
        {{- microseg.tracker_contract_select({
            'event_id': atomic.event_id,
            'anonymous_id': atomic.domain_userid,
            'user_id': atomic.user_id,
            'event_type': 'case when atomic_event = ' ~ "'struct'" ~ ' then coalesce(' ~ atomic.se_action
                ~ ", 'event') else coalesce(ecommerce_action, " ~ atomic.event_name ~ ', ' ~ atomic.event ~ ') end',
            'occurred_at': 'coalesce(' ~ timestamps.derived_tstamp ~ ', ' ~ timestamps.collector_tstamp ~ ')',
            'received_at': timestamps.collector_tstamp,
            'page_url': atomic.page_url,
            'product_id': 'coalesce(' ~ atomic.ti_sku ~ ', ' ~ entity.product_id ~ ')',
            'product_category': 'coalesce(' ~ atomic.ti_category ~ ', ' ~ entity.product_category ~ ')',
            'price': 'coalesce(' ~ microseg.safe_cast(atomic.ti_price, float) ~ ', '
                ~ microseg.safe_cast(entity.product_price, float) ~ ')',
            'quantity': 'coalesce(' ~ microseg.safe_cast(atomic.ti_quantity, integer) ~ ', '
                ~ microseg.safe_cast(entity.product_quantity, integer) ~ ')',
            'revenue': "case when atomic_event = 'transaction' then " ~ microseg.safe_cast(atomic.tr_total, float)
                ~ " when ecommerce_action = 'transaction' then "
                ~ microseg.safe_cast(entity.transaction_revenue, float) ~ ' end',
            'currency': 'coalesce(' ~ [atomic.tr_currency, atomic.ti_currency, entity.transaction_currency,
                entity.product_currency] | join(', ') ~ ')',
            'search_query': "case when atomic_event = 'struct' and lower(" ~ atomic.se_action
                ~ ") in ('search', 'site_search') then " ~ atomic.se_label ~ ' end',
            'utm_source': atomic.mkt_source,
            'utm_medium': atomic.mkt_medium,
            'utm_campaign': atomic.mkt_campaign,
            'device_type': microseg.snowplow_device_type(atomic.dvce_type, atomic.dvce_ismobile, atomic.useragent),
            'user_agent': atomic.useragent,
            'country': atomic.geo_country,
            'city': atomic.geo_city,
        }) }}
    from named
)

select * from final
