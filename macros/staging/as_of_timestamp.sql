{#- The one clock for all time-relative logic. `microseg__as_of` is 'now' in
    production; the demo and the tests pin it to the data's last event. -#}
{% macro as_of_timestamp() -%}
    {%- set as_of = var('microseg__as_of') -%}
    {%- if as_of | string | lower == 'now' -%}
        cast({{ dbt.current_timestamp() }} as {{ dbt.type_timestamp() }})
    {%- else -%}
        cast('{{ as_of }}' as {{ dbt.type_timestamp() }})
    {%- endif -%}
{%- endmacro %}
