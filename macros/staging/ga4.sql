{#- The value of one event parameter (event_params, a list of key and value with
    string_value, int_value, float_value and double_value) as `kind`: string, number, or
    any (whichever value is set, as text); null when the event does not have it. -#}
{% macro ga4_param(columns, key, kind='string') %}
    {%- if 'event_params' not in columns -%}
        {{ return('null') }}
    {%- endif -%}
    {{ return(adapter.dispatch('ga4_param', 'microseg')(
        adapter.quote(columns['event_params'].name), columns['event_params'].data_type | lower, key, kind)) }}
{% endmacro %}

{#- Snowflake: a VARIANT array of objects, searched with FILTER (a higher-order function
    that fakesnow cannot emulate: this branch is compiled, never run, by our checks). -#}
{% macro default__ga4_param(column, data_type, key, kind) -%}
    {%- set value = 'filter(' ~ column ~ ", param -> cast(param:key as varchar) = '" ~ key ~ "')[0]:value" -%}
    {%- set fields = {'number': ['double_value', 'float_value', 'int_value'],
        'any': ['string_value', 'int_value', 'double_value', 'float_value']}.get(kind, ['string_value']) -%}
    {%- set parts = [] -%}
    {%- for field in fields -%}
        {%- do parts.append('cast(' ~ value ~ ':' ~ field ~ ' as '
            ~ (microseg.tracker_number_type() if kind == 'number' else dbt.type_string()) ~ ')') -%}
    {%- endfor -%}
    {{- ('coalesce(' ~ parts | join(', ') ~ ')') if parts | length > 1 else parts[0] -}}
{%- endmacro %}

{#- DuckDB: a list of structs, as BigQuery exports it to Parquet; only the value fields
    the file has are read. -#}
{% macro duckdb__ga4_param(column, data_type, key, kind) -%}
    {%- set value = '(list_filter(' ~ column ~ ", lambda param: param.key = '" ~ key ~ "'))[1].value" -%}
    {%- set fields = {'number': ['double_value', 'float_value', 'int_value'],
        'any': ['string_value', 'int_value', 'double_value', 'float_value']}.get(kind, ['string_value']) -%}
    {%- set parts = [] -%}
    {%- for field in fields if microseg.ga4_struct_has(data_type, field) -%}
        {%- do parts.append('cast(' ~ value ~ '.' ~ field ~ ' as '
            ~ (microseg.tracker_number_type() if kind == 'number' else dbt.type_string()) ~ ')') -%}
    {%- endfor -%}
    {{- ('coalesce(' ~ parts | join(', ') ~ ')') if parts | length > 1 else (parts | first or 'null') -}}
{%- endmacro %}

{#- A field of a record column (device.category, geo.country, ecommerce.purchase_revenue)
    or of the first element of a repeated one (items), as `data_type`; null when the
    export has no such column or field. -#}
{% macro ga4_field(columns, column, field, data_type, first=false) %}
    {%- if column not in columns -%}
        {{ return('null') }}
    {%- endif -%}
    {{ return(adapter.dispatch('ga4_field', 'microseg')(
        adapter.quote(columns[column].name), columns[column].data_type | lower, field, data_type, first)) }}
{% endmacro %}

{% macro default__ga4_field(column, column_type, field, data_type, first) -%}
    cast({{ column }}{{ '[0]' if first }}:{{ field }} as {{ data_type }})
{%- endmacro %}

{% macro duckdb__ga4_field(column, column_type, field, data_type, first) -%}
    {%- if microseg.ga4_struct_has(column_type, field) -%}
        cast({{ column }}{{ '[1]' if first }}.{{ field }} as {{ data_type }})
    {%- else -%}
        null
    {%- endif -%}
{%- endmacro %}

{#- Whether a DuckDB struct type (lower-cased) has a field of that name. -#}
{% macro ga4_struct_has(data_type, field) %}
    {{ return(modules.re.search('[(,]\\s*"?' ~ field ~ '"?\\s', data_type) is not none) }}
{% endmacro %}

{#- GA4 exports no event id: a hash of what identifies an event in the export, those
    columns that it has (the batch fields exist in exports since 2024). The same event
    exported twice gets the same id; two events of one device with the same name in
    the same microsecond and no batch fields would get one id. -#}
{% macro ga4_event_id(columns) -%}
    {%- set parts = [] -%}
    {%- for name in ['stream_id', 'user_pseudo_id', 'event_timestamp', 'event_name',
        'event_bundle_sequence_id', 'batch_page_id', 'batch_ordering_id', 'batch_event_index']
        if name in columns -%}
        {%- if parts -%}
            {%- do parts.append("'|'") -%}
        {%- endif -%}
        {%- do parts.append("coalesce(cast(" ~ adapter.quote(columns[name].name) ~ " as "
            ~ dbt.type_string() ~ "), '')") -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(parts)) }}
{%- endmacro %}
