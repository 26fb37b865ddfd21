{#- The current memberships a sync table may carry, as a query for the sync models'
    first CTE: every membership with the attributes the sync tables need and, per channel,
    whether the segment lists it (lists_<channel>), why it may not be activated there
    (<channel>_withheld_reason, the first that applies: segment_not_activatable,
    suppressed, no_email, no_consent, holdout, then on a capped channel frequency_cap (no
    contact left in the window) or lower_priority (the contacts left go to the person's
    higher-priority segments)) and whether it may
    (is_<channel>_eligible: listed and not withheld). Consent is the current one for the
    channel's purpose (`microseg__channel_consent_purposes`), and every purpose's current
    grant is a column (has_consent_<purpose>) for destinations that pass consent on;
    holdouts and frequency caps do not apply to trait channels (`microseg__trait_channels`),
    whose tables name holdout segments instead. It holds the raw e-mail, so it is never materialized.
    Grain: one row per membership_id. -#}
{% macro activation_candidates() %}
    {%- set purposes = var('microseg__channel_consent_purposes') %}
    {%- set trait_channels = var('microseg__trait_channels') %}
    {%- set caps = microseg.frequency_caps() %}
    {%- set capped = caps | map(attribute='channel') | list %}
    with

    memberships as (
        select * from {{ ref('fct_segment_memberships') }}
    ),

    segments as (
        select * from {{ ref('dim_segments') }}
    ),

    features as (
        select * from {{ ref('dim_persons') }}
    ),

    customers as (
        select * from {{ ref('stg_crm__customers') }}
    ),

    contact_policy as (
        select * from {{ ref('int_person_contact_policy') }}
    ),

    suppressed as (
        select * from {{ ref('int_persons_suppressed') }}
    ),

    checked as (
        select
            memberships.membership_id,
            memberships.person_key,
            memberships.segment_key,
            segments.segment_name,
            memberships.is_holdout,
            memberships.member_since,
            memberships.updated_at,
            features.user_id,
            customers.email,
            features.country,
            features.preferred_channel,
            features.top_interest,
            features.offer_tier,
            features.rfm_class,
            features.lifecycle_stage,
            features.last_abandoned_cart_product_ids,
            features.last_abandoned_cart_category,
            features.last_abandoned_cart_value,
            {% for purpose in var('microseg__consent_purposes') -%}
                features.has_consent_{{ purpose }},
            {% endfor -%}
            {% for channel, purpose in purposes.items() -%}
                {{ microseg.lists_channel('segments.channels', channel) }}
                    as lists_{{ channel }},
                case
                    when not segments.is_activatable then 'segment_not_activatable'
                    when suppressed.person_key is not null then 'suppressed'
                    when customers.email is null then 'no_email'
                    when not features.has_consent_{{ purpose }} then 'no_consent'
                    {% if channel not in trait_channels -%}
                        when memberships.is_holdout then 'holdout'
                    {%- endif %}
                end as {{ channel }}_reason_before_cap,
            {% endfor -%}
            {% for cap in caps -%}
                {{ cap.max_contacts }} - coalesce({{ cap.channel }}_policy.contacts_in_window, 0)
                    as {{ cap.channel }}_contacts_left,
                {{ cap.channel }}_policy.next_allowed_at as {{ cap.channel }}_next_allowed_at,
            {% endfor -%}
            memberships.priority,
            suppressed.suppression_reason
        from memberships
        inner join segments
            on memberships.segment_key = segments.segment_key
        inner join features
            on memberships.person_key = features.person_key
        left join customers
            on features.user_id = customers.user_id
        left join suppressed
            on memberships.person_key = suppressed.person_key
        {% for channel in capped -%}
            left join contact_policy as {{ channel }}_policy
                on
                    memberships.person_key = {{ channel }}_policy.person_key
                    and {{ channel }}_policy.channel = '{{ channel }}'
        {% endfor %}
    ),

    -- A capped channel carries a person in as many segments as contacts are left in the
    -- window, by segment priority: every segment is a campaign.
    ranked as (
        select
            {% for channel in capped -%}
                row_number() over (
                    partition by person_key
                    order by
                        case when lists_{{ channel }} and {{ channel }}_reason_before_cap is null then 0 else 1 end,
                        priority,
                        segment_key
                ) as {{ channel }}_slot,
            {% endfor -%}
            checked.*
        from checked
    ),

    withheld as (
        select
            {% for channel in purposes -%}
                {% if channel in capped -%}
                    case
                        when {{ channel }}_reason_before_cap is not null then {{ channel }}_reason_before_cap
                        when {{ channel }}_contacts_left <= 0 then 'frequency_cap'
                        when {{ channel }}_slot > {{ channel }}_contacts_left then 'lower_priority'
                    end
                {%- else -%}
                    {{ channel }}_reason_before_cap
                {%- endif %} as {{ channel }}_withheld_reason,
            {% endfor -%}
            ranked.*
        from ranked
    ),

    eligible as (
        select
            {% for channel in purposes -%}
                lists_{{ channel }} and {{ channel }}_withheld_reason is null
                    as is_{{ channel }}_eligible,
            {% endfor -%}
            withheld.*
        from withheld
    )

    select * from eligible
{% endmacro %}
