{%- set capped = microseg.frequency_caps() | map(attribute='channel') | list -%}
with

candidates as (
    {{ microseg.activation_candidates() }}
),

withheld as (
    {% for channel in var('microseg__channel_consent_purposes') -%}
        select
            membership_id,
            person_key,
            segment_key,
            '{{ channel }}' as channel,
            {{ channel }}_withheld_reason as withheld_reason,
            case when {{ channel }}_withheld_reason = 'suppressed' then suppression_reason end
                as suppression_reason,
            {% if channel in capped -%}
                case
                    when {{ channel }}_withheld_reason = 'frequency_cap' then {{ channel }}_next_allowed_at
                end
            {%- else -%}
                cast(null as {{ dbt.type_timestamp() }})
            {%- endif %} as next_allowed_at
        from candidates
        where lists_{{ channel }} and {{ channel }}_withheld_reason is not null
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

final as (
    select
        {{ dbt.concat(['membership_id', "'|'", 'channel']) }} as withheld_id,
        membership_id,
        person_key,
        segment_key,
        channel,
        withheld_reason,
        suppression_reason,
        next_allowed_at,
        {{ microseg.as_of_timestamp() }} as evaluated_at
    from withheld
)

select * from final
