{{
    config(
        materialized='incremental',
        unique_key=['identifier_type', 'identifier_hash'],
        full_refresh=false,
        on_schema_change='fail',
    )
}}

{#- Every identifier of every person who asked to be erased, as a salted hash only: the
    user id, the devices seen with it, the e-mail addresses of the user in the CRM (and
    the plain, Google-normalised and salted SHA-256 forms the sync tables carry), and the person keys. Kept across
    builds, full refreshes included, so later rows of an erased person are excluded
    even when the request itself is gone. -#}

with

requests as (
    select
        {{ microseg.clean_string('user_id') }} as user_id,
        lower({{ microseg.clean_string('email') }}) as email,
        {{ microseg.clean_string('anonymous_id') }} as anonymous_id,
        {{ microseg.safe_cast('requested_at', dbt.type_timestamp()) }} as requested_at
    from {{ source('privacy', 'erasure_requests') }}
),

customers as (
    select
        {{ microseg.clean_string('user_id') }} as user_id,
        lower({{ microseg.clean_string('email') }}) as email
    from {{ source('crm', 'customers') }}
),

erased_users as (
    select
        user_id,
        requested_at
    from requests
    where user_id is not null

    union all

    select
        customers.user_id,
        requests.requested_at
    from requests
    inner join customers on requests.email = customers.email
    where customers.user_id is not null
),

erased_emails as (
    select
        email,
        requested_at
    from requests
    where email is not null

    union all

    select
        customers.email,
        erased_users.requested_at
    from erased_users
    inner join customers on erased_users.user_id = customers.user_id
    where customers.email is not null
),

erased_devices as (
    select
        anonymous_id,
        requested_at
    from requests
    where anonymous_id is not null

    union all

    select
        {{ microseg.clean_string('events.anonymous_id') }} as anonymous_id,
        erased_users.requested_at
    from ({{ microseg.contract_events_select(microseg.tracking_events_relation()) }}) as events
    inner join erased_users
        on {{ microseg.clean_string('events.user_id') }} = erased_users.user_id
    where {{ microseg.clean_string('events.anonymous_id') }} is not null
),

identifiers as (
    select
        'user_id' as identifier_type,
        user_id as identifier,
        requested_at
    from erased_users

    union all

    select
        'person_key' as identifier_type,
        {{ dbt.concat(["'user:'", 'user_id']) }} as identifier,
        requested_at
    from erased_users

    union all

    select
        'anonymous_id' as identifier_type,
        anonymous_id as identifier,
        requested_at
    from erased_devices

    union all

    select
        'person_key' as identifier_type,
        {{ dbt.concat(["'anon:'", 'anonymous_id']) }} as identifier,
        requested_at
    from erased_devices

    union all

    select
        'email' as identifier_type,
        email as identifier,
        requested_at
    from erased_emails

    union all

    select
        'email_sha256' as identifier_type,
        {{ microseg.sha256('email') }} as identifier,
        requested_at
    from erased_emails

    union all

    select
        'email_sha256_google' as identifier_type,
        {{ microseg.sha256(microseg.customer_match_email('email')) }} as identifier,
        requested_at
    from erased_emails

    union all

    select
        'email_salted' as identifier_type,
        {{ microseg.hashed_email('email', salted=true) }} as identifier,
        requested_at
    from erased_emails
),

final as (
    select
        identifier_type,
        {{ microseg.erasure_hash('identifier') }} as identifier_hash,
        min(requested_at) as requested_at
    from identifiers
    group by 1, 2
)

select * from final
{% if is_incremental() %}
    where not exists (
        select 1
        from {{ this }} as known
        where
            known.identifier_type = final.identifier_type
            and known.identifier_hash = final.identifier_hash
    )
{% endif %}
