with

source as (
    select {{ microseg.select_raw_columns('suppression_list') }}
    from {{ source('privacy', 'suppression_list') }}
),

typed as (
    select
        source.*,
        {{ microseg.raw_row_occurrence() }} as raw_row_occurrence,
        {{ microseg.clean_string('raw_user_id') }} as user_id,
        lower({{ microseg.clean_string('raw_email') }}) as email,
        lower({{ microseg.clean_string('raw_email_sha256') }}) as given_email_sha256,
        {{ microseg.clean_string('raw_reason') }} as reason,
        {{ microseg.safe_cast('raw_suppressed_at', dbt.type_timestamp()) }} as suppressed_at
    from source
),

checked as (
    select
        *,
        given_email_sha256 is not null
        and {{ microseg.regexp_matches('given_email_sha256', "'[0-9a-f]{64}'") }} as is_valid_hash
    from typed
),

-- An entry suppresses by every identifier it has that can be matched; it is rejected only
-- when it has none (a malformed hash alone matches nobody, so it is not silently kept).
triaged as (
    select
        *,
        case
            when user_id is null and email is null and given_email_sha256 is null then 'missing_id'
            when user_id is null and email is null and not is_valid_hash then 'invalid_email_sha256'
        end as quarantine_reason
    from checked
),

final as (
    select
        raw_row_hash,
        raw_row_occurrence,
        user_id,
        coalesce(
            {{ microseg.hashed_email('email', salted=false) }},
            case when is_valid_hash then given_email_sha256 end
        ) as email_sha256,
        coalesce(reason, 'unspecified') as reason,
        suppressed_at,
        {{ microseg.row_status('1') }} as row_status,
        quarantine_reason,
        {{ microseg.raw_record('suppression_list') }} as raw_record
    from triaged
)

select * from final
