-- No sync table carries a person whose consent in force for the channel's purpose is not a
-- grant (withdrawn, refused, never given, or failed closed). Derived here from every consent
-- record that names the person, whatever staging made of it (clean, duplicate or
-- quarantined), without the ranking in base_crm__consent_decisions: a person may be synced
-- only with a dated, readable grant for the purpose that no other record outweighs. A record
-- outweighs a grant when it is not itself a grant (an explicit withdrawal, an unreadable
-- value, an unknown purpose: every purpose) and is dated at or after it, or has no usable time.
{%- set purposes = var('microseg__channel_consent_purposes') %}
{%- set known_purposes = var('microseg__consent_purposes') %}
{%- set google = microseg.google_consent_purposes() %}

with

records as (
    select
        user_id,
        purpose,
        recorded_at,
        coalesce(purpose in ('{{ known_purposes | join("', '") }}'), false) as is_known_purpose,  -- noqa: LT05
        coalesce(is_granted, false) as is_granted
    from {{ ref('base_crm__consents') }}
    where user_id is not null
),

synced as (
    select
        'sync_email_audiences' as sync_table,
        '{{ purposes.email }}' as purpose,
        user_id
    from {{ ref('sync_email_audiences') }}

    union all

    -- Ad lists carry a pseudonymous id: the salted hash of the membership.
    select distinct
        'sync_ad_audiences' as sync_table,
        '{{ purposes.ads }}' as purpose,
        features.user_id
    from {{ ref('sync_ad_audiences') }} as ad_audiences
    inner join {{ ref('fct_segment_memberships') }} as memberships
        on ad_audiences.audience_member_id = {{ microseg.salted_hash('memberships.membership_id') }}
    inner join {{ ref('int_person_features') }} as features
        on memberships.person_key = features.person_key

    union all

    -- The destination-shaped ad lists; a Google consent signal said GRANTED needs a grant
    -- of the purpose it is mapped to (microseg__google_consent_purposes) as well.
    {% for table, purpose, condition in [
        ('sync_google_customer_match', purposes.ads, 'true'),
        ('sync_meta_custom_audiences', purposes.ads, 'true'),
        ('sync_google_customer_match', google.ad_user_data, "ad_audiences.ad_user_data = 'GRANTED'"),
        ('sync_google_customer_match', google.ad_personalization,
            "ad_audiences.ad_personalization = 'GRANTED'"),
    ] -%}
        select distinct
            '{{ table }}' as sync_table,
            '{{ purpose }}' as purpose,
            features.user_id
        from {{ ref(table) }} as ad_audiences
        inner join {{ ref('fct_segment_memberships') }} as memberships
            on ad_audiences.audience_member_id = {{ microseg.salted_hash('memberships.membership_id') }}
        inner join {{ ref('int_person_features') }} as features
            on memberships.person_key = features.person_key
        where {{ condition }}

        union all
    {% endfor %}

    select
        'sync_crm_traits' as sync_table,
        '{{ purposes.crm }}' as purpose,
        user_id
    from {{ ref('sync_crm_traits') }}
),

synced_pairs as (
    select distinct
        user_id,
        purpose
    from synced
),

last_grants as (
    select
        user_id,
        purpose,
        max(recorded_at) as last_granted_at
    from records
    where is_granted and is_known_purpose and recorded_at is not null
    group by 1, 2
),

-- Everything that is not a dated grant for a known purpose, applied to the synced pairs.
outweighing as (
    select
        synced_pairs.user_id,
        synced_pairs.purpose,
        max(records.recorded_at) as last_withdrawn_at,
        count(case when records.recorded_at is null then 1 end) as undated_records
    from synced_pairs
    inner join records
        on
            synced_pairs.user_id = records.user_id
            and (synced_pairs.purpose = records.purpose or not records.is_known_purpose)
    where not (records.is_granted and records.is_known_purpose and records.recorded_at is not null)
    group by 1, 2
)

select
    synced.*,
    last_grants.last_granted_at,
    outweighing.last_withdrawn_at,
    outweighing.undated_records
from synced
left join last_grants
    on synced.user_id = last_grants.user_id and synced.purpose = last_grants.purpose
left join outweighing
    on synced.user_id = outweighing.user_id and synced.purpose = outweighing.purpose
where last_grants.last_granted_at is null
    or outweighing.undated_records > 0
    or last_grants.last_granted_at <= outweighing.last_withdrawn_at
