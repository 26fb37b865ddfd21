{#- The input contract: the columns each raw source table must have, in order.
    Base models select them with a `raw_` prefix and keep the originals of every
    rejected row as JSON, so quarantine shows exactly what arrived. -#}
{% macro raw_columns(table_name) %}
    {%- set contract = {
        'events': [
            'event_id', 'anonymous_id', 'user_id', 'event_type', 'occurred_at', 'received_at',
            'page_url', 'page_category', 'product_id', 'product_category', 'price', 'quantity',
            'revenue', 'currency', 'discount_code', 'search_query', 'campaign_id',
            'utm_source', 'utm_medium', 'utm_campaign', 'device_type', 'user_agent',
            'country', 'city',
        ],
        'customers': [
            'user_id', 'email', 'signed_up_at', 'country', 'birth_year', 'gender',
            'preferred_channel', 'subscription_status',
        ],
        'consents': ['user_id', 'purpose', 'is_granted', 'recorded_at', 'source'],
    } -%}
    {{ return(contract[table_name]) }}
{% endmacro %}

{#- `select` list that renames every contract column to raw_<column> and adds the
    row's fingerprint, raw_row_hash. -#}
{% macro select_raw_columns(table_name) -%}
    {%- for column in microseg.raw_columns(table_name) %}
        {{ column }} as raw_{{ column }},
    {%- endfor %}
        {{ microseg.row_hash(microseg.raw_columns(table_name)) }} as raw_row_hash
{%- endmacro %}

{#- Numbers exact copies of a raw row apart: (raw_row_hash, raw_row_occurrence) is
    the row's key. Copies are identical, so their order does not matter. -#}
{% macro raw_row_occurrence() -%}
    row_number() over (partition by raw_row_hash order by raw_row_hash)
{%- endmacro %}

{#- The original values of a rejected row as JSON, null for kept rows. -#}
{% macro raw_record(table_name, row_status='row_status') -%}
    case
        when {{ row_status }} != 'clean'
            then {{ microseg.json_object(microseg.raw_columns(table_name), prefix='raw_') }}
    end
{%- endmacro %}
