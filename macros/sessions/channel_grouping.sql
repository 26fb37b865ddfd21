{#- Default channel grouping from landing-page UTM source and medium. -#}
{% macro channel_grouping(source, medium) -%}
    case
        when {{ source }} is null and {{ medium }} is null then 'direct'
        when {{ medium }} in ('cpc', 'ppc', 'paid', 'paidsearch', 'paid_search') then 'paid_search'
        when {{ medium }} in ('email', 'e-mail', 'newsletter') then 'email'
        when {{ medium }} in ('social', 'social-network', 'social_media', 'sm')
            or {{ source }} in ('facebook', 'instagram', 'tiktok', 'linkedin', 'twitter', 'x', 'pinterest')
            then 'social'
        when {{ medium }} = 'organic' then 'organic_search'
        when {{ medium }} in ('display', 'banner', 'cpm') then 'display'
        when {{ medium }} in ('affiliate', 'partner') then 'affiliate'
        when {{ medium }} = 'referral' then 'referral'
        else 'other'
    end
{%- endmacro %}
