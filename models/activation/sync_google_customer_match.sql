{%- set consent_purposes = microseg.google_consent_purposes() %}
with

candidates as (
    {{ microseg.activation_candidates() }}
),

final as (
    select
        {{ microseg.salted_hash('membership_id') }} as audience_member_id,
        segment_key,
        segment_name,
        {{ microseg.sha256(microseg.customer_match_email('email')) }} as email_sha256_google,
        -- Google applies these to every member of an upload job, so a sync sends each
        -- combination in a job of its own (docs/destinations.md).
        {{ microseg.google_consent_status('has_consent_' ~ consent_purposes.ad_user_data) }}
            as ad_user_data,
        {{ microseg.google_consent_status('has_consent_' ~ consent_purposes.ad_personalization) }}
            as ad_personalization,
        member_since,
        updated_at
    from candidates
    where is_ads_eligible
)

select * from final
