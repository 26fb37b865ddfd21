-- depends_on: {{ ref('base_privacy__erasures') }}
with

source as (
    select {{ microseg.select_raw_columns('customers') }}
    from {{ source('crm', 'customers') }}
    {%- if microseg.erasures_exist() %}
        where not {{ microseg.erased_condition({
            microseg.clean_string('user_id'): 'user_id',
            'lower(' ~ microseg.clean_string('email') ~ ')': 'email',
        }) }}
    {%- endif %}
),

typed as (
    select
        source.*,
        {{ microseg.raw_row_occurrence() }} as raw_row_occurrence,
        {{ microseg.clean_string('raw_user_id') }} as user_id,
        lower({{ microseg.clean_string('raw_email') }}) as email,
        {{ microseg.safe_cast('raw_signed_up_at', dbt.type_timestamp()) }} as signed_up_at,
        upper({{ microseg.clean_string('raw_country') }}) as country,
        {{ microseg.safe_cast('raw_birth_year', dbt.type_int()) }} as birth_year,
        lower({{ microseg.clean_string('raw_gender') }}) as gender,
        lower({{ microseg.clean_string('raw_preferred_channel') }}) as preferred_channel,
        lower({{ microseg.clean_string('raw_subscription_status') }}) as subscription_status
    from source
),

validated as (
    select
        *,
        coalesce(
            {{ microseg.regexp_matches('email', "'" ~ var('microseg__email_pattern') ~ "'") }},
            true
        ) as is_email_valid
    from typed
),

-- One row per user: a valid e-mail first, then the most recent sign-up.
ranked as (
    select
        *,
        row_number() over (
            partition by user_id
            order by
                case when is_email_valid then 0 else 1 end asc,
                signed_up_at desc nulls last,
                email asc,
                raw_row_hash asc,
                raw_row_occurrence asc
        ) as user_id_rank
    from validated
),

triaged as (
    select
        *,
        case
            when user_id is null then 'missing_id'
            when user_id_rank > 1 then null
            when not is_email_valid then 'invalid_email'
            when raw_signed_up_at is not null and signed_up_at is null then 'invalid_timestamp'
        end as quarantine_reason
    from ranked
),

with_status as (
    select
        *,
        {{ microseg.row_status('user_id_rank') }} as row_status
    from triaged
),

final as (
    select
        raw_row_hash,
        raw_row_occurrence,
        user_id,
        email,
        signed_up_at,
        case when {{ dbt.length('country') }} = 2 then country end as country,
        case
            when birth_year between {{ var('microseg__birth_year_min') }}
                and {{ var('microseg__birth_year_max') }}
                then birth_year
        end as birth_year,
        case
            when gender in ('f', 'female', 'w', 'woman') then 'female'
            when gender in ('m', 'male', 'man') then 'male'
            when gender in ('d', 'x', 'diverse', 'non-binary', 'nonbinary', 'non_binary')
                then 'non_binary'
        end as gender,
        case
            when preferred_channel in ('email', 'e-mail', 'mail') then 'email'
            when preferred_channel in ('sms', 'text') then 'sms'
            when preferred_channel in ('push', 'app') then 'push'
            when preferred_channel in ('phone', 'call') then 'phone'
        end as preferred_channel,
        case
            when subscription_status in ('active', 'subscribed') then 'active'
            when subscription_status in ('paused') then 'paused'
            when subscription_status in ('cancelled', 'canceled', 'churned') then 'cancelled'
            else 'none'
        end as subscription_status,
        row_status,
        quarantine_reason,
        {{ microseg.raw_record('customers') }} as raw_record
    from with_status
)

select * from final
