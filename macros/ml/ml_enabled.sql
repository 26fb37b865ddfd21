{#- Whether the machine-learning models run (`--vars '{microseg__ml_enabled: false}'`). -#}
{% macro ml_enabled() -%}
    {{ return(var('microseg__ml_enabled', true) | as_bool) }}
{%- endmacro %}
