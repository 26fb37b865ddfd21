{#- The SQL condition for membership of one catalogue segment: its rule, its minimum
    number of interactions, and the full condition of its parent (so a nested segment
    is always inside its parent). -#}
{% macro segment_condition(segment, catalogue) -%}
    ({{ segment.rule }}) and interactions >= {{ segment.min_interactions }}
    {%- if segment.parent -%}
        {%- set parent = (catalogue | selectattr('key', 'equalto', segment.parent) | first) %}
    and {{ microseg.segment_condition(parent, catalogue) }}
    {%- endif -%}
{%- endmacro %}
