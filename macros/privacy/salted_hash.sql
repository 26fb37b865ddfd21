{#- Lowercase hex SHA-256 of the secret salt followed by a string expression: a
    pseudonymous id that only the warehouse can compute, stable while the salt is. -#}
{% macro salted_hash(expression) -%}
    {{ microseg.sha256(dbt.concat([microseg.hash_salt_sql(), expression])) }}
{%- endmacro %}
