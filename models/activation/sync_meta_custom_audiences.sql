with

ad_audiences as (
    select * from {{ ref('sync_ad_audiences') }}
),

final as (
    select
        audience_member_id,
        segment_key,
        segment_name,
        -- Meta's EMAIL key: SHA-256 of the trimmed, lowercased address, which is exactly
        -- the plain hash of sync_ad_audiences (no Gmail-specific rule at Meta).
        email_sha256_unsalted,
        -- Meta's COUNTRY key: the lowercase ISO 3166-1 alpha-2 code.
        case when length(trim(country)) = 2 then lower(trim(country)) end as country_code,
        member_since,
        updated_at
    from ad_audiences
)

select * from final
