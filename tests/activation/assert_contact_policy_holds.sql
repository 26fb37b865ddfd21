-- The sync tables carry no held-out member (on message channels), nobody on the
-- suppression list (on any channel), and on a frequency-capped channel no person in more
-- segments than contacts are left in the cap's window. Contacts and suppressions are
-- recomputed here from staging, without the intermediate models activation reads.
{%- set caps = microseg.frequency_caps() %}
{%- set trait_channels = var('microseg__trait_channels') %}

with

memberships as (
    select * from {{ ref('fct_segment_memberships') }}
),

synced as (
    select
        'email' as channel,
        {{ dbt.concat(["'user:'", 'user_id']) }} as person_key,
        segment_key
    from {{ ref('sync_email_audiences') }}

    union all

    select
        'ads' as channel,
        memberships.person_key,
        memberships.segment_key
    from {{ ref('sync_ad_audiences') }} as ad_audiences
    inner join memberships
        on ad_audiences.audience_member_id = {{ microseg.salted_hash('memberships.membership_id') }}

    union all

    -- The destination-shaped ad lists too (the same memberships again: a cap counts a
    -- person's distinct segments).
    {% for table in ['sync_google_customer_match', 'sync_meta_custom_audiences'] -%}
        select
            'ads' as channel,
            memberships.person_key,
            memberships.segment_key
        from {{ ref(table) }} as ad_audiences
        inner join memberships
            on ad_audiences.audience_member_id = {{ microseg.salted_hash('memberships.membership_id') }}

        union all
    {% endfor %}

    select
        'crm' as channel,
        {{ dbt.concat(["'user:'", 'user_id']) }} as person_key,
        cast(null as {{ dbt.type_string() }}) as segment_key
    from {{ ref('sync_crm_traits') }}
),

suppressed as (
    select {{ dbt.concat(["'user:'", 'user_id']) }} as person_key
    from {{ ref('stg_privacy__suppressions') }}
    where user_id is not null

    union all

    select {{ dbt.concat(["'user:'", 'customers.user_id']) }} as person_key
    from {{ ref('stg_privacy__suppressions') }} as suppressions
    inner join {{ ref('stg_crm__customers') }} as customers
        on suppressions.email_sha256 = {{ microseg.sha256('lower(trim(customers.email))') }}
),

contacts as (
    {% for cap in caps -%}
        select
            '{{ cap.channel }}' as channel,
            {{ cap.max_contacts }} as max_contacts,
            {{ dbt.concat(["'user:'", 'user_id']) }} as person_key,
            occurred_at as contacted_at,
            {{ cap.days }} as cap_days
        from {{ ref('stg_tracking__events') }}
        where
            user_id is not null
            and event_type in ('{{ (cap.event_types or ['']) | join("', '") }}')

        union all

        select
            '{{ cap.channel }}' as channel,
            {{ cap.max_contacts }} as max_contacts,
            {{ dbt.concat(["'user:'", 'user_id']) }} as person_key,
            sent_at as contacted_at,
            {{ cap.days }} as cap_days
        from {{ ref('stg_sends__contacts') }}
        where channel = '{{ cap.channel }}'
        {% if not loop.last %}union all{% endif %}
    {% else -%}
        select
            cast(null as {{ dbt.type_string() }}) as channel,
            0 as max_contacts,
            cast(null as {{ dbt.type_string() }}) as person_key,
            cast(null as {{ dbt.type_timestamp() }}) as contacted_at,
            0 as cap_days
        where false
    {%- endfor %}
),

caps as (
    {% for cap in caps -%}
        select '{{ cap.channel }}' as channel, {{ cap.max_contacts }} as max_contacts
        {% if not loop.last %}union all{% endif %}
    {% else -%}
        select cast(null as {{ dbt.type_string() }}) as channel, 0 as max_contacts where false
    {%- endfor %}
),

recent as (
    select
        person_key,
        channel,
        count(*) as contacts
    from contacts
    where
        contacted_at is null
        or (
            contacted_at > {{ dbt.dateadd('day', '-cap_days', microseg.as_of_timestamp()) }}
            and contacted_at <= {{ microseg.as_of_timestamp() }}
        )
    group by 1, 2
),

held_out as (
    select
        'holdout' as violation,
        synced.channel,
        synced.person_key
    from synced
    inner join memberships
        on synced.person_key = memberships.person_key and synced.segment_key = memberships.segment_key
    where memberships.is_holdout
        and synced.channel not in ('{{ trait_channels | join("', '") }}')
),

suppressed_synced as (
    select
        'suppressed' as violation,
        synced.channel,
        synced.person_key
    from synced
    inner join suppressed
        on synced.person_key = suppressed.person_key
),

over_cap as (
    select
        'frequency_cap' as violation,
        synced.channel,
        synced.person_key
    from synced
    inner join caps
        on synced.channel = caps.channel
    left join recent
        on synced.person_key = recent.person_key and synced.channel = recent.channel
    group by 2, 3
    having count(distinct synced.segment_key) > max(caps.max_contacts) - coalesce(max(recent.contacts), 0)
)

select * from held_out
union all
select * from suppressed_synced
union all
select * from over_cap
