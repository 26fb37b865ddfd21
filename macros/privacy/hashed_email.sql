{#- SHA-256 of the normalised e-mail (trimmed, lowercase). `salted=true` prefixes the
    secret salt (salted_hash), for ids that must not be joinable outside;
    `salted=false` is the plain hash ad platforms require for customer-list matching. -#}
{% macro hashed_email(email, salted) -%}
    {%- set normalised = 'lower(trim(' ~ email ~ '))' -%}
    {%- if salted -%}
        {{ microseg.salted_hash(normalised) }}
    {%- else -%}
        {{ microseg.sha256(normalised) }}
    {%- endif -%}
{%- endmacro %}
