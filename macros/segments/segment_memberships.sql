{#- Compiles the catalogue into one select of (person_key, segment_key) per match,
    reading the person features from `features` (a relation or CTE name). -#}
{% macro segment_memberships(features) -%}
    {%- set catalogue = microseg.segment_catalogue() -%}
    {%- for segment in catalogue %}
    select
        person_key,
        '{{ segment.key }}' as segment_key
    from {{ features }}
    where {{ microseg.segment_condition(segment, catalogue) }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{%- endmacro %}
