{#- The e-mail as Google Customer Match normalises it before hashing (Data Manager API,
    "Format user data"): lowercase, no whitespace at all, and for gmail.com and
    googlemail.com addresses no dots before the @. Staging has already trimmed and
    lowercased the address and checked it against microseg__email_pattern (one @, no
    whitespace); this repeats what matters so the hash is right for any input. -#}
{% macro customer_match_email(email) -%}
    {%- set cleaned = "replace(lower(trim(" ~ email ~ ")), ' ', '')" -%}
    {%- set local_part = dbt.split_part(cleaned, "'@'", 1) -%}
    {%- set domain = dbt.split_part(cleaned, "'@'", 2) -%}
    case
        when {{ domain }} in ('gmail.com', 'googlemail.com')
            then {{ dbt.concat(["replace(" ~ local_part ~ ", '.', '')", "'@'", domain]) }}
        else {{ cleaned }}
    end
{%- endmacro %}

{#- var microseg__google_consent_purposes, checked: which of our consent purposes grants
    each of Google's EEA consent signals (ad_user_data, ad_personalization). Both signals
    must be mapped, each to a purpose of microseg__consent_purposes. -#}
{% macro google_consent_purposes() %}
    {%- set mapping = var('microseg__google_consent_purposes') -%}
    {%- set purposes = var('microseg__consent_purposes') -%}
    {%- set signals = ['ad_user_data', 'ad_personalization'] -%}
    {%- if mapping is not mapping or mapping.keys() | list | sort != signals | sort -%}
        {{ exceptions.raise_compiler_error(
            'microseg__google_consent_purposes must map exactly ad_user_data and ad_personalization to consent purposes') }}
    {%- endif -%}
    {%- for signal in signals -%}
        {%- if mapping[signal] not in purposes -%}
            {{ exceptions.raise_compiler_error('microseg__google_consent_purposes.' ~ signal ~ ': '
                ~ mapping[signal] ~ ' is not a consent purpose (microseg__consent_purposes: '
                ~ purposes | join(', ') ~ ')') }}
        {%- endif -%}
    {%- endfor -%}
    {{ return({'ad_user_data': mapping.ad_user_data, 'ad_personalization': mapping.ad_personalization}) }}
{% endmacro %}

{#- A Google ConsentStatus from a boolean "has a current clean grant" column: GRANTED only
    when it is true; false or unknown (null) is DENIED, never UNSPECIFIED. -#}
{% macro google_consent_status(has_grant) -%}
    case when coalesce({{ has_grant }}, false) then 'GRANTED' else 'DENIED' end
{%- endmacro %}
