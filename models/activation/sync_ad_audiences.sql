with

candidates as (
    {{ microseg.activation_candidates() }}
),

final as (
    select
        {{ microseg.salted_hash('membership_id') }} as audience_member_id,
        segment_key,
        segment_name,
        {{ microseg.hashed_email('email', salted=false) }} as email_sha256_unsalted,
        country,
        member_since,
        updated_at
    from candidates
    where is_ads_eligible
)

select * from final
