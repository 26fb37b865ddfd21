{#- One field of a self-describing event (an object) or of the first entity of a
    context (an array of objects), as text. Each schema has a column per major version on
    Snowflake (`..._1`) and per full version in BigQuery-style exports and CSVs
    (`..._1_0_2`): every column starting with `prefix` is read, the first value wins;
    null when there is none. -#}
{% macro snowplow_json_field(columns, prefix, field) %}
    {%- set found = [] -%}
    {%- for name, column in columns.items() | sort if name.startswith(prefix) -%}
        {%- do found.append(adapter.dispatch('snowplow_json_field', 'microseg')(
            adapter.quote(column.name), column.data_type | lower, field)) -%}
    {%- endfor -%}
    {%- if not found -%}
        {{ return('null') }}
    {%- endif -%}
    {{ return('coalesce(' ~ found | join(', ') ~ ')' if found | length > 1 else found[0]) }}
{% endmacro %}

{#- Snowflake (and Databricks) load them as VARIANT: an object for the event, an array
    for a context. -#}
{% macro default__snowplow_json_field(column, data_type, field) -%}
    coalesce(cast({{ column }}[0]:{{ field }} as varchar), cast({{ column }}:{{ field }} as varchar))
{%- endmacro %}

{#- On DuckDB they are JSON text (the CSV and BigQuery-style exports: an array of one
    object even for the event) or, read from Parquet written by a warehouse, a struct or a
    list of structs. -#}
{% macro duckdb__snowplow_json_field(column, data_type, field) -%}
    {%- if data_type.startswith('struct') -%}
        cast({{ column }}.{{ field }} as varchar)
    {%- elif data_type.endswith('[]') -%}
        cast({{ column }}[1].{{ field }} as varchar)
    {%- else -%}
        coalesce(
            json_extract_string({{ column }}, '$[0].{{ field }}'),
            json_extract_string({{ column }}, '$.{{ field }}')
        )
    {%- endif -%}
{%- endmacro %}

{#- Column prefixes of the Snowplow schemas the adapter reads. -#}
{% macro snowplow_schemas() %}
    {{ return({
        'ecommerce_action': 'unstruct_event_com_snowplowanalytics_snowplow_ecommerce_snowplow_ecommerce_action_1',
        'product': 'contexts_com_snowplowanalytics_snowplow_ecommerce_product_1',
        'transaction': 'contexts_com_snowplowanalytics_snowplow_ecommerce_transaction_1',
    }) }}
{% endmacro %}

{#- desktop, mobile or tablet: the user-agent enrichment's dvce_type (Computer, Mobile,
    Tablet), else dvce_ismobile, else the user agent itself. -#}
{% macro snowplow_device_type(dvce_type, dvce_ismobile, user_agent) -%}
    case
        when lower({{ dvce_type }}) in ('mobile', 'tablet') then lower({{ dvce_type }})
        when lower({{ dvce_type }}) = 'computer' then 'desktop'
        when lower(cast({{ dvce_ismobile }} as {{ dbt.type_string() }})) in ('true', 't', '1') then 'mobile'
        else {{ microseg.device_type_from_user_agent(user_agent) }}
    end
{%- endmacro %}
