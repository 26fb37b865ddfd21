{%- set caps = microseg.frequency_caps() -%}
with

contacts as (
    select * from {{ ref('int_person_contacts') }}
),

caps as (
    {% for cap in caps -%}
        select
            '{{ cap.channel }}' as channel,
            {{ cap.max_contacts }} as max_contacts,
            {{ cap.days }} as cap_days,
            {{ dbt.dateadd('day', -cap.days, microseg.as_of_timestamp()) }} as window_start
        {% if not loop.last %}union all{% endif %}
    {% else -%}
        select
            cast(null as {{ dbt.type_string() }}) as channel,
            0 as max_contacts,
            0 as cap_days,
            cast(null as {{ dbt.type_timestamp() }}) as window_start
        where false
    {%- endfor %}
),

-- Contacts inside the cap's window, the latest first; one without a time counts as the
-- latest (a contact that cannot be placed is not assumed to be old).
recent as (
    select
        contacts.person_key,
        contacts.channel,
        caps.max_contacts,
        caps.cap_days,
        contacts.contacted_at,
        row_number() over (
            partition by contacts.person_key, contacts.channel
            order by
                case when contacts.contacted_at is null then 0 else 1 end asc,
                contacts.contacted_at desc,
                contacts.contact_id asc
        ) as recency_rank
    from contacts
    inner join caps
        on contacts.channel = caps.channel
    where
        contacts.contacted_at is null
        or (
            contacts.contacted_at > caps.window_start
            and contacts.contacted_at <= {{ microseg.as_of_timestamp() }}
        )
),

final as (
    select
        {{ dbt.concat(['person_key', "'|'", 'channel']) }} as person_channel_id,
        person_key,
        channel,
        count(*) as contacts_in_window,
        max(max_contacts) as max_contacts,
        max(contacted_at) as last_contacted_at,
        count(*) >= max(max_contacts) as is_capped,
        -- Allowed again once the max_contacts-th latest contact leaves the window.
        case
            when count(*) >= max(max_contacts) then
                {{ dbt.dateadd(
                    'day', 'max(cap_days)',
                    'max(case when recency_rank = max_contacts then coalesce(contacted_at, '
                    ~ microseg.as_of_timestamp() ~ ') end)'
                ) }}
        end as next_allowed_at
    from recent
    group by 2, 3
)

select * from final
