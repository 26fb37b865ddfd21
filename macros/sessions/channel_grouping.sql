{#- Default channel grouping from landing-page UTM source and medium: `direct` without
    either, else the first channel, in the order below, whose spellings in the seed
    utm_channel_mapping include the medium or the source, else `other`. -#}
{% macro channel_grouping(source, medium) -%}
    {%- set channels = [
        'paid_search', 'email', 'social', 'organic_search', 'display', 'affiliate', 'referral',
    ] -%}
    {%- set mapping = ref('utm_channel_mapping') -%}
    case
        when {{ source }} is null and {{ medium }} is null then 'direct'
        {%- for channel in channels %}
        when {{ medium }} in (
                select utm_channels.utm_value from {{ mapping }} as utm_channels
                where utm_channels.utm_field = 'utm_medium' and utm_channels.channel = '{{ channel }}'
            )
            or {{ source }} in (
                select utm_channels.utm_value from {{ mapping }} as utm_channels
                where utm_channels.utm_field = 'utm_source' and utm_channels.channel = '{{ channel }}'
            )
            then '{{ channel }}'
        {%- endfor %}
        else 'other'
    end
{%- endmacro %}
