-- depends_on: {{ ref('base_privacy__erasures') }}
{%- set channels = var('microseg__channel_consent_purposes').keys() | list %}
with

source as (
    select {{ microseg.select_raw_columns('send_log') }}
    from {{ source('sends', 'send_log') }}
    {%- if microseg.erasures_exist() %}
        where not {{ microseg.erased_condition({
            microseg.clean_string('user_id'): 'user_id',
        }) }}
    {%- endif %}
),

typed as (
    select
        source.*,
        {{ microseg.raw_row_occurrence() }} as raw_row_occurrence,
        {{ microseg.clean_string('raw_user_id') }} as user_id,
        lower({{ microseg.clean_string('raw_channel') }}) as channel,
        {{ microseg.safe_cast('raw_sent_at', dbt.type_timestamp()) }} as sent_at,
        {{ microseg.clean_string('raw_campaign_id') }} as campaign_id
    from source
),

-- A send without a readable time is kept: the contact policy counts it as recent.
triaged as (
    select
        *,
        case
            when user_id is null then 'missing_id'
            when channel is null or channel not in ('{{ channels | join("', '") }}')  -- noqa: LT05
                then 'unknown_channel'
        end as quarantine_reason
    from typed
),

final as (
    select
        raw_row_hash,
        raw_row_occurrence,
        user_id,
        channel,
        sent_at,
        campaign_id,
        {{ microseg.row_status('1') }} as row_status,
        quarantine_reason,
        {{ microseg.raw_record('send_log') }} as raw_record
    from triaged
)

select * from final
