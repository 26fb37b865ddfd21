{#- The RFM class of a recency score and a frequency-monetary score, from the ranges in
    `microseg__rfm_classes`. -#}
{% macro rfm_class(recency_score, frequency_monetary_score) -%}
    case
        {%- for rfm in var('microseg__rfm_classes') %}
        when {{ recency_score }} between {{ rfm.r[0] }} and {{ rfm.r[1] }}
            and {{ frequency_monetary_score }} between {{ rfm.fm[0] }} and {{ rfm.fm[1] }}
            then '{{ rfm.key }}'
        {%- endfor %}
    end
{%- endmacro %}
