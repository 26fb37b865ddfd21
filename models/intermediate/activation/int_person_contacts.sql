{%- set caps = microseg.frequency_caps() -%}
with

events as (
    select * from {{ ref('int_events_attributed_to_persons') }}
),

send_log as (
    select * from {{ ref('stg_sends__contacts') }}
),

tracked as (
    {% for cap in caps if cap.event_types -%}
        select
            event_id as contact_id,
            person_key,
            '{{ cap.channel }}' as channel,
            occurred_at as contacted_at,
            campaign_id,
            'tracker' as contact_source
        from events
        where event_type in ('{{ cap.event_types | join("', '") }}')
        {% if not loop.last %}union all{% endif %}
    {% else -%}
        select
            cast(null as {{ dbt.type_string() }}) as contact_id,
            cast(null as {{ dbt.type_string() }}) as person_key,
            cast(null as {{ dbt.type_string() }}) as channel,
            cast(null as {{ dbt.type_timestamp() }}) as contacted_at,
            cast(null as {{ dbt.type_string() }}) as campaign_id,
            'tracker' as contact_source
        where false
    {%- endfor %}
),

logged as (
    select
        contact_id,
        {{ dbt.concat(["'user:'", 'user_id']) }} as person_key,
        channel,
        sent_at as contacted_at,
        campaign_id,
        'send_log' as contact_source
    from send_log
),

final as (
    select * from tracked
    union all
    select * from logged
)

select * from final
