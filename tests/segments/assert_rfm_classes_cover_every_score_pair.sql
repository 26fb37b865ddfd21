-- Every (recency, frequency-monetary) score pair falls in exactly one RFM class, so the
-- class grid of the catalogue's rfm segments has neither gaps nor overlaps.
{%- set classes = microseg.segment_catalogue('rfm') %}

with

scores as (
    {% for score in range(1, 6) -%}
        select {{ score }} as score
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

pairs as (
    select
        recency.score as recency_score,
        frequency_monetary.score as frequency_monetary_score
    from scores as recency
    cross join scores as frequency_monetary
),

matches as (
    select
        recency_score,
        frequency_monetary_score,
        (
            {% for rfm in classes -%}
                case
                    when recency_score between {{ rfm.r[0] }} and {{ rfm.r[1] }}
                        and frequency_monetary_score between {{ rfm.fm[0] }} and {{ rfm.fm[1] }}
                        then 1
                    else 0
                end
                {% if not loop.last %}+{% endif %}
            {% endfor %}
        ) as classes_matched
    from pairs
)

select * from matches
where classes_matched != 1
