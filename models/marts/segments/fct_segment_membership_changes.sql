with

history as (
    select * from {{ ref('snap_segment_memberships') }}
),

versions as (
    select
        *,
        lag(dbt_is_deleted) over (
            partition by membership_id order by dbt_valid_from
        ) as previous_is_deleted
    from history
),

final as (
    select
        dbt_scd_id as change_id,
        membership_id,
        person_key,
        segment_key,
        case
            when dbt_is_deleted = 'True' then 'exited'
            when previous_is_deleted is null or previous_is_deleted = 'True' then 'entered'
            else 'updated'
        end as change_type,
        dbt_valid_from as changed_at,
        dbt_is_deleted != 'True' and is_primary as is_primary,
        is_holdout
    from versions
)

select * from final
