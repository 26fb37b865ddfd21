{#- `dbt source freshness` on a raw table: the latest `column` (the receipt time) that is
    not in the future, beyond var microseg__max_clock_skew_minutes of the build's UTC time.
    A tracker's broken clock (a receipt in 2999) would otherwise make the source look fresh
    for ever; the column is read whatever its shape (microseg.parse_timestamp). The source's
    loaded_at_query calls it, with `this` the source's relation. -#}
{% macro latest_plausible_receipt(relation, column) %}
    {%- set found = namespace(data_type='timestamp') -%}
    {%- if execute -%}
        {%- set types = {} -%}
        {%- for each in adapter.get_columns_in_relation(relation) -%}
            {%- do types.update({each.name | lower: each.data_type}) -%}
        {%- endfor -%}
        {%- if column not in types -%}
            {{ exceptions.raise_compiler_error(
                relation ~ ' has no column ' ~ column ~ ' to judge its freshness by') }}
        {%- endif -%}
        {%- set found.data_type = types[column] -%}
    {%- endif -%}
    select max(loaded_at)
    from (
        select {{ microseg.parse_timestamp(column, found.data_type) }} as loaded_at
        from {{ relation }}
    ) as receipts
    where loaded_at <= {{ dbt.dateadd('minute', var('microseg__max_clock_skew_minutes'), microseg.utc_now()) }}
{% endmacro %}
