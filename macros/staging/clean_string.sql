{#- Text trimmed of all surrounding whitespace (tabs, newlines, no-break spaces too), with
    empty strings turned into null. -#}
{% macro clean_string(field) -%}
    nullif(trim(cast({{ field }} as {{ dbt.type_string() }}), {{ microseg.whitespace_characters() }}), '')
{%- endmacro %}

{% macro whitespace_characters() -%}
    ' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13) || chr(160)
{%- endmacro %}
