{#- A table, not ephemeral: `microseg train` reads its cluster labels and lookalikes from
    it. -#}
{{ config(materialized='table') }}

with

final as (
    {{ microseg.render_segment_catalogue() }}
)

select * from final
