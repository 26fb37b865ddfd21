{#- One tombstone per row of `from_relation` for the `replace_from` strategy: the
    model's own columns, null except the partition and (when given) the point to
    replace from. -#}
{% macro tombstone_rows(from_relation, partition_column, order_column=none, order_value=none) -%}
    select
    {%- for column in adapter.get_columns_in_relation(this) %}
        {% if column.name | lower == partition_column -%}
            {{ partition_column }}
        {%- elif order_column and column.name | lower == order_column -%}
            {{ order_value }}
        {%- else -%}
            null
        {%- endif %} as {{ column.name | lower }}{{ ',' if not loop.last }}
    {%- endfor %}
    from {{ from_relation }}
{%- endmacro %}
