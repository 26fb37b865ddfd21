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

customer_value_mapping as (
    select * from {{ ref('customer_value_mapping') }}
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

-- Gender, channel and subscription status spellings are looked up in the seed
-- customer_value_mapping; an unlisted gender or channel is null, an unlisted (or
-- missing) subscription status is `none`.
final as (
    select
        with_status.raw_row_hash,
        with_status.raw_row_occurrence,
        with_status.user_id,
        with_status.email,
        with_status.signed_up_at,
        case when {{ dbt.length('with_status.country') }} = 2 then with_status.country end as country,
        case
            when with_status.birth_year between {{ var('microseg__birth_year_min') }}
                and {{ var('microseg__birth_year_max') }}
                then with_status.birth_year
        end as birth_year,
        genders.canonical_value as gender,
        channels.canonical_value as preferred_channel,
        coalesce(subscription_statuses.canonical_value, 'none') as subscription_status,
        with_status.row_status,
        with_status.quarantine_reason,
        {{ microseg.raw_record('customers', 'with_status.row_status') }} as raw_record
    from with_status
    left join customer_value_mapping as genders
        on genders.attribute = 'gender'
            and with_status.gender = genders.raw_value
    left join customer_value_mapping as channels
        on channels.attribute = 'preferred_channel'
            and with_status.preferred_channel = channels.raw_value
    left join customer_value_mapping as subscription_statuses
        on subscription_statuses.attribute = 'subscription_status'
            and with_status.subscription_status = subscription_statuses.raw_value
)

select * from final
