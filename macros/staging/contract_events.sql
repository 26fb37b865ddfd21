{#- The raw events in the input contract's shape, from whatever columns arrived: every
    contract column by name (case-insensitive), an absent optional one as a typed null,
    received_at as occurred_at when absent; occurred_at and received_at as naive UTC
    (see parse_timestamp) with the text as sent beside them when it was not already a
    timestamp. Stops, naming the fix, when a required column is missing or unusable;
    `announce` logs the columns it ignores. A relation that does not exist (yet) gets
    the columns by name, and fails on its own when read. -#}
{% macro contract_events_select(relation, announce=false) -%}
    {%- set present = microseg.columns_by_name(relation) -%}
    {%- if execute and present -%}
        {%- do microseg.check_event_contract(relation, present, announce) -%}
    {%- endif -%}
    {%- set timestamps = ['occurred_at', 'received_at'] %}
    select
    {%- for name, data_type in microseg.raw_contract('events') %}
        {%- set source_name = name if name in present or name != 'received_at' else 'occurred_at' %}
        {%- if source_name in present %}
            {%- set quoted = adapter.quote(present[source_name].name) %}
            {%- if name in timestamps %}
        {{ microseg.parse_timestamp(quoted, present[source_name].data_type) }} as {{ name }},
            {%- else %}
        {{ quoted }} as {{ name }},
            {%- endif %}
        {%- elif not present %}
        {{ name }},
        {%- else %}
        cast(null as {{ data_type }}) as {{ name }},
        {%- endif %}
    {%- endfor %}
    {%- for name in timestamps %}
        {%- set source_name = name if name in present else 'occurred_at' %}
        {%- if source_name in present
            and microseg.timestamp_shape(present[source_name].data_type | lower) != 'naive' %}
        cast({{ adapter.quote(present[source_name].name) }} as {{ dbt.type_string() }}) as {{ name }}_as_sent
        {%- else %}
        cast(null as {{ dbt.type_string() }}) as {{ name }}_as_sent
        {%- endif %}{{ ',' if not loop.last }}
    {%- endfor %}
    from {{ relation }}
{%- endmacro %}

{#- The input contract's promises, checked on the columns of the raw events. -#}
{% macro check_event_contract(relation, present, announce=false) %}
    {%- set problems = [] -%}
    {%- for name in microseg.required_event_columns() if name not in present -%}
        {%- do problems.append('no column ' ~ name) -%}
    {%- endfor -%}
    {%- if 'anonymous_id' not in present and 'user_id' not in present -%}
        {%- do problems.append('neither anonymous_id nor user_id') -%}
    {%- endif -%}
    {%- set unusable = ['boolean', 'bool', 'blob', 'bytea', 'binary', 'struct', 'map', 'list', 'array',
        'object', 'union', 'geography', 'geometry'] -%}
    {%- for name, column in present.items() if name in microseg.raw_columns('events') -%}
        {%- set data_type = column.data_type | lower -%}
        {%- if data_type.split('(')[0].split('<')[0] in unusable or data_type.endswith('[]') -%}
            {%- do problems.append(name ~ ' is ' ~ column.data_type ~ ', not text, a number or a timestamp') -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if problems -%}
        {{ exceptions.raise_compiler_error(
            'the raw events (' ~ relation ~ ') break the input contract: ' ~ problems | join('; ')
            ~ '. Rename or add those columns (README, Input contract: event_id, event_type, occurred_at '
            ~ 'and anonymous_id or user_id are required, everything else is optional), or set '
            ~ 'var microseg__event_source to segment, snowplow or ga4 for those trackers\' tables.') }}
    {%- endif -%}
    {%- set extra = present.keys() | reject('in', microseg.raw_columns('events')) | list -%}
    {%- if extra and announce -%}
        {{ log('microseg: ignoring ' ~ extra | length ~ ' columns of the raw events that are not in the input contract: '
            ~ extra | sort | join(', '), info=True) }}
    {%- endif -%}
{% endmacro %}
