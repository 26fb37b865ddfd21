{#- var microseg__frequency_caps, checked: a list of {channel, max_contacts, days,
    event_types}, one per capped channel. A malformed cap stops the build: an unchecked
    value would reach SQL, and a cap that silently did nothing would flood inboxes. -#}
{% macro frequency_caps() %}
    {%- set caps = var('microseg__frequency_caps') or {} -%}
    {%- set channels = var('microseg__channel_consent_purposes').keys() | list -%}
    {%- if caps is not mapping -%}
        {{ exceptions.raise_compiler_error(
            'microseg__frequency_caps must map channels to {max_contacts, days, event_types}') }}
    {%- endif -%}
    {%- set checked = [] -%}
    {%- for channel, cap in caps.items() | sort -%}
        {%- set where = 'microseg__frequency_caps.' ~ channel ~ ': ' -%}
        {%- if channel not in channels -%}
            {{ exceptions.raise_compiler_error(where ~ 'unknown channel; the channels are '
                ~ channels | join(', ') ~ ' (microseg__channel_consent_purposes)') }}
        {%- endif -%}
        {%- if channel in var('microseg__trait_channels') -%}
            {{ exceptions.raise_compiler_error(where ~ 'a trait channel (microseg__trait_channels) carries no messages to cap') }}
        {%- endif -%}
        {%- if cap is not mapping -%}
            {{ exceptions.raise_compiler_error(where ~ 'expected {max_contacts, days, event_types}') }}
        {%- endif -%}
        {%- for name in ['max_contacts', 'days'] -%}
            {%- set value = cap.get(name) -%}
            {%- if value is not number or value is boolean or value < 1 or value != value | int -%}
                {{ exceptions.raise_compiler_error(where ~ name ~ ' must be a whole number of at least 1, not ' ~ value) }}
            {%- endif -%}
        {%- endfor -%}
        {%- set event_types = cap.get('event_types', []) -%}
        {%- if event_types is string or event_types is not iterable -%}
            {{ exceptions.raise_compiler_error(where ~ 'event_types must be a list of event types') }}
        {%- endif -%}
        {%- for event_type in event_types -%}
            {%- if event_type is not string or not modules.re.fullmatch('[a-z][a-z0-9_]*', event_type) -%}
                {{ exceptions.raise_compiler_error(where ~ 'event type ' ~ event_type ~ ' is not a lowercase identifier') }}
            {%- endif -%}
        {%- endfor -%}
        {%- do checked.append({
            'channel': channel, 'max_contacts': cap.max_contacts | int, 'days': cap.days | int,
            'event_types': event_types | list,
        }) -%}
    {%- endfor -%}
    {{ return(checked) }}
{% endmacro %}

{#- True when a segment's comma-separated `channels` column lists `channel`. -#}
{% macro lists_channel(channels, channel) -%}
    {{ dbt.concat(["','", channels, "','"]) }} like '%,{{ channel }},%'
{%- endmacro %}
