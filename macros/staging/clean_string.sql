{#- Trimmed text, with empty strings turned into null. -#}
{% macro clean_string(field) -%}
    nullif(trim(cast({{ field }} as {{ dbt.type_string() }})), '')
{%- endmacro %}
