-- No sync table carries a person whose current consent for the channel's purpose is not
-- a grant (withdrawn, refused, or never given).
{%- set purposes = var('microseg__channel_consent_purposes') %}

with

consents as (
    select * from {{ ref('stg_crm__consents') }}
),

persons as (
    select * from {{ ref('dim_persons') }}
),

granted as (
    select
        user_id,
        purpose
    from consents
    where is_current and is_granted
),

synced as (
    select
        'sync_email_audiences' as sync_table,
        '{{ purposes.email }}' as purpose,
        user_id
    from {{ ref('sync_email_audiences') }}

    union all

    select
        'sync_ad_audiences' as sync_table,
        '{{ purposes.ads }}' as purpose,
        persons.user_id
    from {{ ref('sync_ad_audiences') }} as ad_audiences
    inner join {{ ref('fct_segment_memberships') }} as memberships
        on ad_audiences.audience_member_id = memberships.membership_id
    inner join persons
        on memberships.person_key = persons.person_key

    union all

    select
        'sync_crm_traits' as sync_table,
        '{{ purposes.crm }}' as purpose,
        user_id
    from {{ ref('sync_crm_traits') }}
)

select synced.*
from synced
left join granted
    on synced.user_id = granted.user_id and synced.purpose = granted.purpose
where granted.user_id is null
