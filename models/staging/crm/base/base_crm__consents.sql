-- depends_on: {{ ref('base_privacy__erasures') }}
with

source as (
    select {{ microseg.select_raw_columns('consents') }}
    from {{ source('crm', 'consents') }}
    {%- if microseg.erasures_exist() %}
        where not {{ microseg.erased_condition({
            microseg.clean_string('user_id'): 'user_id',
        }) }}
    {%- endif %}
),

consent_value_mapping as (
    select * from {{ ref('consent_value_mapping') }}
),

-- The raw flag may arrive as a boolean, a number or text: its trimmed, lower-cased text
-- is looked up in the seed. Anything the seed does not list (null, empty, unknown) has
-- no is_granted and counts as a withdrawal downstream.
typed as (
    select
        source.*,
        {{ microseg.raw_row_occurrence() }} as raw_row_occurrence,
        {{ microseg.clean_string('raw_user_id') }} as user_id,
        lower({{ microseg.clean_string('raw_purpose') }}) as purpose,
        lower({{ microseg.clean_string('raw_is_granted') }}) as consent_value,
        {{ microseg.safe_cast('raw_recorded_at', dbt.type_timestamp()) }} as recorded_at,
        lower({{ microseg.clean_string('raw_source') }}) as consent_source
    from source
),

parsed as (
    select
        typed.*,
        consent_value_mapping.is_granted
    from typed
    left join consent_value_mapping
        on typed.consent_value = consent_value_mapping.raw_value
),

-- Records for the same user, purpose and instant are one decision. A withdrawal beats a
-- grant whatever its spelling (an unreadable value is a withdrawal too, so it is never a
-- copy of a grant); an explicit withdrawal is kept before an unreadable one.
ranked as (
    select
        *,
        row_number() over (
            partition by user_id, purpose, recorded_at
            order by
                case when is_granted then 1 else 0 end,
                case when is_granted is null then 1 else 0 end,
                consent_source,
                raw_row_hash,
                raw_row_occurrence
        ) as record_rank
    from parsed
),

triaged as (
    select
        *,
        case
            when user_id is null then 'missing_id'
            when raw_recorded_at is null then 'missing_timestamp'
            when recorded_at is null then 'invalid_timestamp'
            when record_rank > 1 then null
            when purpose is null
                or purpose not in ('{{ var("microseg__consent_purposes") | join("', '") }}')  -- noqa: LT05
                then 'unknown_purpose'
            when is_granted is null then 'invalid_value'
        end as quarantine_reason
    from ranked
),

with_status as (
    select
        *,
        {{ microseg.row_status('record_rank') }} as row_status
    from triaged
),

final as (
    select
        raw_row_hash,
        raw_row_occurrence,
        {{ dbt.hash(dbt.concat([
            "coalesce(user_id, '')", "'|'", "coalesce(purpose, '')", "'|'",
            "coalesce(cast(recorded_at as " ~ dbt.type_string() ~ "), '')",
        ])) }} as consent_record_id,
        user_id,
        purpose,
        consent_value,
        is_granted,
        recorded_at,
        consent_source,
        row_status,
        quarantine_reason,
        {{ microseg.raw_record('consents') }} as raw_record
    from with_status
)

select * from final
