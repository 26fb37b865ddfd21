-- Audit: rejected event rows per receipt day and reason, to spot a tracker release
-- that started sending bad data. `dbt compile` renders it; run it in your SQL client.
select
    {{ dbt.date_trunc('day', 'received_at') }} as received_date,
    quarantine_reason,
    count(*) as rejected_rows
from {{ ref('stg_tracking__events_quarantined') }}
group by 1, 2
order by 1 desc, 3 desc
