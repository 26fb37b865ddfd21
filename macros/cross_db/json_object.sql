{#- A JSON text of the given columns, nulls kept, keys without the prefix. -#}
{% macro json_object(columns, prefix='') %}
    {{ return(adapter.dispatch('json_object', 'microseg')(columns, prefix)) }}
{% endmacro %}

{% macro default__json_object(columns, prefix) -%}
    cast(json_object(
        {%- for column in columns %}
        '{{ column }}', {{ prefix ~ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    ) as {{ dbt.type_string() }})
{%- endmacro %}

{% macro snowflake__json_object(columns, prefix) -%}
    to_json(object_construct_keep_null(
        {%- for column in columns %}
        '{{ column }}', {{ prefix ~ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    ))
{%- endmacro %}
