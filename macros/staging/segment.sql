{#- Segment's per-event tables the adapter reads properties from (var
    microseg__segment_event_tables, snake_case table names as Segment writes them). A
    listed table that does not exist is skipped. -#}
{% macro segment_event_tables() %}
    {%- set tables = var('microseg__segment_event_tables') -%}
    {%- for name in tables -%}
        {%- if not modules.re.fullmatch('[a-z][a-z0-9_]*', name | string) -%}
            {{ exceptions.raise_compiler_error(
                'var microseg__segment_event_tables: ' ~ name ~ ' is not a Segment table name '
                ~ '(snake_case, as in the warehouse)') }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(tables) }}
{% endmacro %}

{#- Contract column -> the Segment property columns it is read from, first value wins
    (e-commerce spec v2: `revenue`, else `total`; `coupon` is the discount code). -#}
{% macro segment_event_properties() %}
    {{ return({
        'product_id': ['product_id', 'sku'],
        'product_category': ['category'],
        'price': ['price'],
        'quantity': ['quantity'],
        'revenue': ['revenue', 'total'],
        'currency': ['currency'],
        'discount_code': ['coupon', 'discount_code'],
        'search_query': ['query'],
        'campaign_id': ['campaign_id'],
    }) }}
{% endmacro %}

{#- The properties of every track call found in the per-event tables that exist: one row
    per message id (a re-sent call repeats its properties; min() picks one copy's value),
    as text. Without any such table, an empty one. -#}
{% macro segment_event_properties_select() -%}
    {%- set properties = microseg.segment_event_properties() -%}
    {%- set text = dbt.type_string() -%}
    {%- set parts = [] -%}
    {%- if execute -%}
        {%- set tracks = source('segment', 'tracks') -%}
        {%- for name in microseg.segment_event_tables() -%}
            {%- set relation = adapter.get_relation(
                database=tracks.database, schema=tracks.schema, identifier=name) -%}
            {%- if relation is not none -%}
                {%- set columns = microseg.columns_by_name(relation) -%}
                {%- set part -%}
    select
        cast({{ microseg.first_column(columns, ['id']) }} as {{ text }}) as message_id,
                    {%- for column, candidates in properties.items() %}
        cast({{ microseg.coalesce_columns(columns, candidates) }} as {{ text }}) as {{ column }}{{ ',' if not loop.last }}
                    {%- endfor %}
    from {{ relation }}
                {%- endset -%}
                {%- do parts.append(part) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if not parts -%}
        {%- set part -%}
    select
        cast(null as {{ text }}) as message_id,
            {%- for column in properties %}
        cast(null as {{ text }}) as {{ column }}{{ ',' if not loop.last }}
            {%- endfor %}
    where false
        {%- endset -%}
        {%- do parts.append(part) -%}
    {%- endif %}
    select
        message_id,
    {%- for column in properties %}
        min({{ column }}) as {{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
    from (
        {{ parts | join('\n        union all\n') }}
    ) as event_tables
    where message_id is not null
    group by message_id
{%- endmacro %}

{#- One Segment call table (tracks, pages or identifies) as contract expressions:
    occurred_at is Segment's `timestamp` (clock-skew corrected), received_at its
    `received_at`; `overrides` sets the call-specific columns, `prefix` qualifies the
    columns (`tracks.`). -#}
{% macro segment_call_expressions(relation, overrides, prefix='') %}
    {%- set columns = microseg.columns_by_name(relation) -%}
    {%- set timestamps = {} -%}
    {%- for name, candidates in {'occurred_at': ['timestamp', 'original_timestamp', 'received_at'],
        'received_at': ['received_at', 'timestamp']}.items() -%}
        {%- set chosen = candidates | select('in', columns) | first -%}
        {%- do timestamps.update({name: microseg.parse_timestamp(prefix ~ adapter.quote(columns[chosen].name),
            columns[chosen].data_type) if chosen else 'null'}) -%}
    {%- endfor -%}
    {%- set user_agent = microseg.first_column(columns, ['context_user_agent'], prefix) -%}
    {%- set expressions = {
        'event_id': microseg.first_column(columns, ['id', 'message_id'], prefix),
        'anonymous_id': microseg.first_column(columns, ['anonymous_id'], prefix),
        'user_id': microseg.first_column(columns, ['user_id'], prefix),
        'occurred_at': timestamps.occurred_at,
        'received_at': timestamps.received_at,
        'page_url': microseg.first_column(columns, ['context_page_url', 'url'], prefix),
        'utm_source': microseg.first_column(columns, ['context_campaign_source'], prefix),
        'utm_medium': microseg.first_column(columns, ['context_campaign_medium'], prefix),
        'utm_campaign': microseg.first_column(columns, ['context_campaign_name'], prefix),
        'device_type': microseg.segment_device_type(
            microseg.first_column(columns, ['context_device_type'], prefix), user_agent),
        'user_agent': user_agent,
        'country': microseg.first_column(columns, ['context_location_country'], prefix),
        'city': microseg.first_column(columns, ['context_location_city'], prefix),
    } -%}
    {%- do expressions.update(overrides) -%}
    {{ return(expressions) }}
{% endmacro %}

{#- Mobile libraries send context.device.type (ios, android); analytics.js sends none, so
    the user agent decides. -#}
{% macro segment_device_type(device_type, user_agent) -%}
    case
        when lower({{ device_type }}) in ('desktop', 'mobile', 'tablet') then lower({{ device_type }})
        when lower({{ device_type }}) in ('ios', 'android') then 'mobile'
        else {{ microseg.device_type_from_user_agent(user_agent) }}
    end
{%- endmacro %}
