{#- A stable bucket 0..buckets-1 from the MD5 of an expression: the first 8 hex digits of
    the digest read as a number, digit by digit, so every warehouse gives the same bucket
    without a hex-parsing function. -#}
{% macro hash_bucket(expression, buckets=100) -%}
    (
        {%- for position in range(1, 9) %}
        (position(substr(md5({{ expression }}), {{ position }}, 1) in '0123456789abcdef') - 1)
        * {{ 16 ** (8 - position) }}
        {%- if not loop.last %} +{% endif %}
        {%- endfor %}
    ) % {{ buckets }}
{%- endmacro %}
