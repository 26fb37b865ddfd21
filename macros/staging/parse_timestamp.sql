{#- A raw timestamp as naive UTC, whatever shape the tracker wrote: a naive timestamp
    (taken as UTC), one with a time zone, text with or without an offset or `Z`, or epoch
    seconds, milliseconds or microseconds (as numbers or digits). Null when unreadable.
    `data_type` is the column's type in the warehouse (lowercase). -#}
{% macro parse_timestamp(field, data_type) %}
    {{ return(adapter.dispatch('parse_timestamp', 'microseg')(field, data_type | lower)) }}
{% endmacro %}

{#- Which of the shapes above a column type is. -#}
{% macro timestamp_shape(data_type) %}
    {%- if 'time zone' in data_type or 'timestamptz' in data_type or 'timestamp_tz' in data_type
        or 'timestamp_ltz' in data_type -%}
        {{ return('zoned') }}
    {%- elif 'timestamp' in data_type or data_type == 'datetime' -%}
        {{ return('naive') }}
    {%- elif data_type == 'date' -%}
        {{ return('date') }}
    {%- elif data_type.split('(')[0] in ['tinyint', 'smallint', 'integer', 'int', 'bigint',
        'hugeint', 'ubigint', 'uinteger', 'decimal', 'numeric', 'number', 'double', 'float',
        'real', 'int4', 'int8', 'float8'] -%}
        {{ return('epoch') }}
    {%- else -%}
        {{ return('text') }}
    {%- endif -%}
{% endmacro %}

{#- Digits of an epoch: seconds below 1e11 (until the year 5138), then milliseconds,
    then microseconds from 1e14. -#}
{% macro epoch_micros(number) -%}
    case
        when abs({{ number }}) >= 1e14 then {{ number }}
        when abs({{ number }}) >= 1e11 then {{ number }} * 1000
        else {{ number }} * 1000000
    end
{%- endmacro %}

{#- Elsewhere only the cast: a third warehouse needs its own version. -#}
{% macro default__parse_timestamp(field, data_type) -%}
    {{ microseg.safe_cast(field, dbt.type_timestamp()) }}
{%- endmacro %}

{% macro duckdb__parse_timestamp(field, data_type) -%}
    {%- set shape = microseg.timestamp_shape(data_type) -%}
    {%- if shape == 'naive' -%}
        cast({{ field }} as timestamp)
    {%- elif shape == 'zoned' -%}
        cast(timezone('UTC', {{ field }}) as timestamp)
    {%- elif shape == 'date' -%}
        cast({{ field }} as timestamp)
    {%- elif shape == 'epoch' -%}
        try(make_timestamp(try_cast({{ microseg.epoch_micros('cast(' ~ field ~ ' as double)') }} as bigint)))
    {%- else -%}
        {%- set text = microseg.clean_string(field) -%}
        case
            when regexp_full_match({{ text }}, {{ microseg.epoch_text_pattern() }})
                then try(make_timestamp(try_cast({{ microseg.epoch_micros('try_cast(' ~ text ~ ' as double)') }} as bigint)))
            when regexp_full_match({{ text }}, {{ microseg.offset_text_pattern() }})
                then cast(timezone('UTC', try_cast({{ text }} as timestamptz)) as timestamp)
            else try_cast({{ text }} as timestamp)
        end
    {%- endif -%}
{%- endmacro %}

{% macro snowflake__parse_timestamp(field, data_type) -%}
    {%- set shape = microseg.timestamp_shape(data_type) -%}
    {%- if shape == 'naive' or shape == 'date' -%}
        cast({{ field }} as timestamp_ntz)
    {%- elif shape == 'zoned' -%}
        cast(convert_timezone('UTC', {{ field }}) as timestamp_ntz)
    {%- elif shape == 'epoch' -%}
        to_timestamp_ntz(cast({{ microseg.epoch_micros('cast(' ~ field ~ ' as double)') }} as bigint), 6)
    {%- else -%}
        {%- set text = microseg.clean_string(field) -%}
        case
            when regexp_like({{ text }}, {{ microseg.epoch_text_pattern() }})
                then to_timestamp_ntz(cast({{ microseg.epoch_micros('try_cast(' ~ text ~ ' as double)') }} as bigint), 6)
            when regexp_like({{ text }}, {{ microseg.offset_text_pattern() }})
                then cast(convert_timezone('UTC', try_to_timestamp_tz({{ text }})) as timestamp_ntz)
            else try_to_timestamp_ntz({{ text }})
        end
    {%- endif -%}
{%- endmacro %}

{% macro offset_text_pattern() -%}
    '.*[0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)? ?([zZ]|[+-][0-9]{2}(:?[0-9]{2})?)'
{%- endmacro %}

{% macro epoch_text_pattern() -%}
    '[+-]?[0-9]{9,17}([.][0-9]+)?'
{%- endmacro %}
