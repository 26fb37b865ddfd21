{#- A table, not ephemeral: the dbt Python models read their cluster labels and lookalikes
    from it. -#}
{{ config(materialized='table') }}

with

final as (
    {{ microseg.render_segment_catalogue() }}
)

select * from final
