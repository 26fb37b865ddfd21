{#- The input contract: the columns each raw source table may have, in order, with the
    type an absent optional column gets. Base models select them with a `raw_` prefix and
    keep the originals of every rejected row as JSON, so quarantine shows what arrived. -#}
{% macro raw_contract(table_name) %}
    {%- set text = dbt.type_string() -%}
    {%- set moment = dbt.type_timestamp() -%}
    {%- set number = microseg.tracker_number_type() -%}
    {%- set contract = {
        'events': [
            ('event_id', text), ('anonymous_id', text), ('user_id', text),
            ('event_type', text), ('occurred_at', moment), ('received_at', moment),
            ('page_url', text), ('page_category', text), ('product_id', text),
            ('product_category', text), ('price', number), ('quantity', dbt.type_int()),
            ('revenue', number), ('currency', text), ('discount_code', text),
            ('search_query', text), ('campaign_id', text), ('utm_source', text),
            ('utm_medium', text), ('utm_campaign', text), ('device_type', text),
            ('user_agent', text), ('country', text), ('city', text),
        ],
        'customers': [
            ('user_id', text), ('email', text), ('signed_up_at', moment), ('country', text),
            ('birth_year', dbt.type_int()), ('gender', text), ('preferred_channel', text),
            ('subscription_status', text),
        ],
        'consents': [
            ('user_id', text), ('purpose', text), ('is_granted', dbt.type_boolean()),
            ('recorded_at', moment), ('source', text),
        ],
        'suppression_list': [
            ('user_id', text), ('email', text), ('email_sha256', text), ('reason', text),
            ('suppressed_at', moment),
        ],
        'send_log': [
            ('user_id', text), ('channel', text), ('sent_at', moment), ('campaign_id', text),
        ],
    } -%}
    {{ return(contract[table_name]) }}
{% endmacro %}

{% macro raw_columns(table_name) %}
    {{ return(microseg.raw_contract(table_name) | map(attribute=0) | list) }}
{% endmacro %}

{#- Event columns without which no row can be used; one of the two ids is also needed. -#}
{% macro required_event_columns() %}
    {{ return(['event_id', 'event_type', 'occurred_at']) }}
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

{#- The original values of a rejected row as JSON, null for kept rows; `extra` raw_
    columns (such as a timestamp's text as sent) are added to the contract's. -#}
{% macro raw_record(table_name, row_status='row_status', extra=[]) -%}
    case
        when {{ row_status }} != 'clean'
            then {{ microseg.json_object(microseg.raw_columns(table_name) + extra, prefix='raw_') }}
    end
{%- endmacro %}
