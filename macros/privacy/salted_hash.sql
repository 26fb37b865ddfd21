{#- SHA-256 of the secret salt followed by a string expression. -#}
{% macro salted_hash(expression) -%}
    {{ microseg.sha256(dbt.concat(["'" ~ microseg.hash_salt() ~ "'", expression])) }}
{%- endmacro %}
