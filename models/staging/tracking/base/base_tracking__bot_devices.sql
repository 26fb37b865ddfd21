-- depends_on: {{ ref('base_privacy__erasures') }}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='anonymous_id',
        on_schema_change='fail',
        post_hook="{{ microseg.purge_erased() }}",
    )
}}

{#- Incremental runs recount only the devices with a raw row received in this invocation's
    late window (the build ledger's changed_from), over all their rows: a device's peak
    only grows as rows arrive, and erased devices are purged. -#}
{%- set changed_from = microseg.changed_from() if is_incremental() else none -%}
{%- set anonymous_id = microseg.clean_string('contract_events.anonymous_id') %}

with

contract_events as (
    select * from {{ ref('base_tracking__contract_events') }}
),

{% if changed_from is not none %}

    touched_devices as (
        select distinct {{ anonymous_id }} as anonymous_id
        from contract_events
        where
            contract_events.received_at > cast('{{ changed_from }}' as {{ dbt.type_timestamp() }})
            or contract_events.received_at is null
    ),

{% endif %}

-- Every raw row counts, valid or not, duplicates included (as distinct event ids).
device_minutes as (
    select
        {{ anonymous_id }} as anonymous_id,
        {{ dbt.date_trunc('minute', 'contract_events.occurred_at') }} as event_minute,
        count(distinct {{ microseg.clean_string('contract_events.event_id') }}) as events_in_minute
    from contract_events
    {% if changed_from is not none -%}
        inner join touched_devices on {{ anonymous_id }} = touched_devices.anonymous_id
    {%- endif %}
    where {{ anonymous_id }} is not null
        and {{ microseg.clean_string('contract_events.event_id') }} is not null
        and contract_events.occurred_at is not null
    group by 1, 2
),

final as (
    select
        anonymous_id,
        max(events_in_minute) as peak_events_per_minute
    from device_minutes
    group by 1
    having max(events_in_minute) > {{ var('microseg__bot_max_events_per_minute') }}
)

select * from final
