{#- The RFM class of a recency score and a frequency-monetary score, from the r and fm
    ranges of the catalogue's rfm segments (segment_catalogue_entries; checked). -#}
{% macro rfm_class(recency_score, frequency_monetary_score) -%}
    case
        {%- for rfm in microseg.segment_catalogue_entries() if rfm.origin == 'rfm' %}
        {%- do microseg.segment_origin_rule(rfm) %}
        when {{ recency_score }} between {{ rfm.r[0] }} and {{ rfm.r[1] }}
            and {{ frequency_monetary_score }} between {{ rfm.fm[0] }} and {{ rfm.fm[1] }}
            then '{{ rfm.rfm_class }}'
        {%- endfor %}
    end
{%- endmacro %}
