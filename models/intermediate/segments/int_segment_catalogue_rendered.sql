with

final as (
    {{ microseg.render_segment_catalogue() }}
)

select * from final
