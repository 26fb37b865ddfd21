{#- True when the whole of `field` matches `pattern` (a SQL string literal). -#}
{% macro regexp_matches(field, pattern) %}
    {{ return(adapter.dispatch('regexp_matches', 'microseg')(field, pattern)) }}
{% endmacro %}

{% macro default__regexp_matches(field, pattern) -%}
    regexp_full_match({{ field }}, {{ pattern }})
{%- endmacro %}

{% macro snowflake__regexp_matches(field, pattern) -%}
    regexp_like({{ field }}, {{ pattern }})
{%- endmacro %}
