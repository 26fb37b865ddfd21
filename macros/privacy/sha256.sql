{#- Lowercase hex SHA-256 of a string expression. -#}
{% macro sha256(expression) %}
    {{ return(adapter.dispatch('sha256', 'microseg')(expression)) }}
{% endmacro %}

{% macro default__sha256(expression) -%}
    sha256({{ expression }})
{%- endmacro %}

{% macro snowflake__sha256(expression) -%}
    sha2({{ expression }}, 256)
{%- endmacro %}
