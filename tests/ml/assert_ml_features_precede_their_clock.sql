-- No machine-learning feature row reads an event after its clock, and the labels of
-- train and holdout rows come only from the window after it.
with

feature_rows as (
    select * from {{ ref('int_person_features_at_cutoffs') }}
)

select
    feature_row_id,
    feature_clock,
    last_event_at
from feature_rows
where
    last_event_at > feature_clock
    or (snapshot = 'score') != (is_active_in_window is null)
    or (snapshot = 'score') != (purchased_in_window is null)
