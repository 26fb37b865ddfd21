with

candidates as (
    {{ microseg.activation_candidates() }}
),

final as (
    select
        {{ microseg.salted_hash('membership_id') }} as audience_member_id,
        segment_key,
        segment_name,
        user_id,
        {{ microseg.hashed_email('email', salted=true) }} as email_sha256_salted,
        preferred_channel,
        top_interest,
        offer_tier,
        rfm_class,
        last_abandoned_cart_product_ids,
        last_abandoned_cart_category,
        last_abandoned_cart_value,
        member_since,
        updated_at
    from candidates
    where is_email_eligible
)

select * from final
