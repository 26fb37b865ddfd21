with

suppressions as (
    select * from {{ ref('stg_privacy__suppressions') }}
),

customers as (
    select * from {{ ref('stg_crm__customers') }}
),

matched as (
    select
        {{ dbt.concat(["'user:'", 'user_id']) }} as person_key,
        reason,
        suppressed_at,
        suppression_id
    from suppressions
    where user_id is not null

    union all

    select
        {{ dbt.concat(["'user:'", 'customers.user_id']) }} as person_key,
        suppressions.reason,
        suppressions.suppressed_at,
        suppressions.suppression_id
    from suppressions
    inner join customers
        on suppressions.email_sha256 = {{ microseg.hashed_email('customers.email', salted=false) }}
    where suppressions.email_sha256 is not null
),

ranked as (
    select
        *,
        row_number() over (
            partition by person_key
            order by
                case when suppressed_at is null then 1 else 0 end,
                suppressed_at,
                reason,
                suppression_id
        ) as entry_rank,
        count(*) over (partition by person_key) as entries
    from matched
),

final as (
    select
        person_key,
        reason as suppression_reason,
        suppressed_at,
        entries as suppression_entries
    from ranked
    where entry_rank = 1
)

select * from final
