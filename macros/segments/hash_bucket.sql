{#- A stable bucket 0..buckets-1 from the MD5 of an expression, equal on every
    warehouse (the first 32 bits of the digest, read as hex). -#}
{% macro hash_bucket(expression, buckets=100) %}
    {{ return(adapter.dispatch('hash_bucket', 'microseg')(expression, buckets)) }}
{% endmacro %}

{% macro default__hash_bucket(expression, buckets) -%}
    cast(('0x' || left(md5({{ expression }}), 8)) as bigint) % {{ buckets }}
{%- endmacro %}

{% macro snowflake__hash_bucket(expression, buckets) -%}
    mod(to_number(left(md5({{ expression }}), 8), 'XXXXXXXX'), {{ buckets }})
{%- endmacro %}
